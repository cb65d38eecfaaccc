"""The lake's J10 questions: DuckDB over the partitioned Parquet vs pandas over the same files, queries/s.

The data is GENERATED (``folio.lake.generate``, source ``generated:orders``):
``FOLIO_BENCH_LAKE_ROWS`` order events (10,000,000 by default) and the lines of their
orders, over 10 shops and 30 days, written by ``Lake.append`` to a lake folder under
``.folio/bench/lake``: 300 ``date``/``shop_id`` partitions per table, about 33,000 events
each (one file per partition; shops x days chosen so a file holds a realistic day of
a shop, not a few rows). Generation and writing are timed and reported, not compared.

Each question is asked both ways in the same run, ``REPEATS`` times after a warm-up,
each run reading the files from disk again:

- DuckDB: ``Lake.query`` on the ready-made views (``revenue_by_shop_day``,
  ``best_sellers``, ``funnel_by_shop_day``), a fresh in-memory connection per query.
- pandas: the same files (the manifest's list: the folder store keeps a content-type
  file beside each, which a folder scan would trip on) read with pyarrow (Hive
  partitions, only the columns the question needs) into DataFrames, then
  ``groupby``/``merge``.

The two answers must agree (row counts and totals) or the benchmark fails.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped]  # pandas ships no stubs here

from benchmarks.harness import RESULTS_DIR, BenchResult, Measurement
from folio.core.settings import load_settings
from folio.lake.api import Lake, lake_for, order_events_table, order_lines_table
from folio.lake.generate import GENERATED_SOURCE, generated_orders

NAME = "lake"
ROWS = int(os.environ.get("FOLIO_BENCH_LAKE_ROWS", "10000000"))
SHOPS = 10
DAYS = 30
END = dt.date(2026, 12, 1)
REPEATS = int(os.environ.get("FOLIO_BENCH_REPEATS", "3"))


def build_lake(root: Path) -> tuple[Lake, dict[str, object]]:
    """A fresh lake folder holding the GENERATED orders; what it took to make it."""
    shutil.rmtree(root, ignore_errors=True)
    settings = load_settings()
    settings = settings.model_copy(
        update={"lake": settings.lake.model_copy(update={"backend": "local", "path": root})}
    )
    lake = lake_for(settings)
    start = time.perf_counter()
    events, lines = generated_orders(ROWS, shops=SHOPS, days=DAYS, end=END)
    generated = time.perf_counter() - start
    start = time.perf_counter()
    lake.append(order_events_table(), events, source=GENERATED_SOURCE)
    lake.append(order_lines_table(), lines, source=GENERATED_SOURCE)
    written = time.perf_counter() - start
    manifest = lake.manifest("order_events")
    return lake, {
        "events": events.num_rows,
        "lines": lines.num_rows,
        "shops": SHOPS,
        "days": DAYS,
        "partitions_per_table": len(manifest.partitions),
        "event_bytes": sum(entry.bytes for entry in manifest.files),
        "generate_s": round(generated, 1),
        "write_s": round(written, 1),
    }


def _frame(root: Path, table: str, columns: list[str]) -> pd.DataFrame:
    """``columns`` of every file of ``table`` in its manifest, read with pyarrow into pandas."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    from folio.lake.api import Manifest

    manifest = Manifest.from_json((root / table / "_manifest.json").read_bytes())
    partitions = ds.partitioning(pa.schema([("date", pa.date32()), ("shop_id", pa.string())]), flavor="hive")
    files = [str(root / entry.path) for entry in manifest.files]
    dataset = ds.dataset(
        files, format="parquet", partitioning=partitions, partition_base_dir=str(root / table)
    )
    return dataset.to_table(columns=columns).to_pandas()


def _events(root: Path, columns: list[str]) -> pd.DataFrame:
    return _frame(root, "order_events", columns)


def pandas_revenue(root: Path) -> pd.DataFrame:
    """Revenue by shop and day (paid orders), in pandas."""
    events = _events(root, ["event_type", "order_id", "total_minor", "currency", "date", "shop_id"])
    paid = events[events["event_type"] == "OrderPaid"]
    return (
        paid.groupby(["shop_id", "date", "currency"], observed=True)
        .agg(orders_paid=("order_id", "nunique"), revenue_minor=("total_minor", "sum"))
        .reset_index()
    )


def pandas_best_sellers(root: Path) -> pd.DataFrame:
    """Units and revenue per shop and work over paid orders, in pandas."""
    events = _events(root, ["event_type", "order_id", "shop_id"])
    paid = events.loc[events["event_type"] == "OrderPaid", ["shop_id", "order_id"]].drop_duplicates()
    lines = _frame(
        root,
        "order_lines",
        ["order_id", "work_id", "title", "quantity", "unit_price_minor", "currency", "shop_id"],
    )
    sold = lines.merge(paid, on=["shop_id", "order_id"])
    sold["revenue_minor"] = sold["quantity"].astype("int64") * sold["unit_price_minor"]
    return (
        sold.groupby(["shop_id", "work_id", "currency"], observed=True)
        .agg(title=("title", "first"), units=("quantity", "sum"), revenue_minor=("revenue_minor", "sum"))
        .reset_index()
    )


def pandas_funnel(root: Path) -> pd.DataFrame:
    """Customers with a cart, orders placed and paid, per shop and day, in pandas."""
    events = _events(root, ["event_type", "order_id", "customer_id", "date", "shop_id"])
    keys = ["shop_id", "date"]
    carts = (
        events[events["event_type"] == "CartItemAdded"].groupby(keys, observed=True)["customer_id"].nunique()
    )
    placed = events[events["event_type"] == "OrderPlaced"].groupby(keys, observed=True)["order_id"].nunique()
    paid = events[events["event_type"] == "OrderPaid"].groupby(keys, observed=True)["order_id"].nunique()
    funnel = pd.DataFrame({"carts": carts, "placed": placed, "paid": paid}).fillna(0).reset_index()
    funnel["cart_to_paid"] = (funnel["paid"] / funnel["carts"]).round(4)
    return funnel


QUESTIONS: dict[str, tuple[str, Callable[[Path], pd.DataFrame], str]] = {
    "revenue_by_shop_day": (
        "SELECT * FROM revenue_by_shop_day",
        pandas_revenue,
        "revenue_minor",
    ),
    "best_sellers": ("SELECT * FROM best_sellers", pandas_best_sellers, "units"),
    "funnel_by_shop_day": ("SELECT * FROM funnel_by_shop_day", pandas_funnel, "paid"),
}
"""Per question: DuckDB's SQL, pandas's function, and a column whose total both must agree on."""


def _time(label: str, body: Callable[[], Any]) -> tuple[Measurement, Any]:
    answer = body()  # warm-up (the page cache holds the files for both sides alike), not counted
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    total = sum(times)
    measurement = Measurement(
        label=label,
        requests=REPEATS,
        seconds=total,
        rps=REPEATS / total,
        p50_ms=statistics.median(times) * 1000,
        p99_ms=max(times) * 1000,
        errors=0,
    )
    return measurement, answer


def run() -> list[BenchResult]:
    """Build the GENERATED lake, then each question with DuckDB and with pandas; one result each."""
    root = (RESULTS_DIR / "lake").absolute()
    lake, built = build_lake(root)
    print(f"lake: GENERATED {built['events']:,} order events, {built['lines']:,} lines; {built}")
    results = []
    for name, (sql, in_pandas, check) in QUESTIONS.items():
        duck, duck_answer = _time("duckdb", partial(lake.query, sql))
        panda, panda_answer = _time("pandas", partial(in_pandas, root))
        ours = (duck_answer.num_rows, int(duck_answer.column(check).to_pandas().sum()))
        theirs = (len(panda_answer), int(panda_answer[check].sum()))
        if ours != theirs:
            raise AssertionError(f"{name}: DuckDB says (rows, {check}) = {ours}, pandas {theirs}")
        results.append(
            BenchResult.comparing(
                __doc__,
                name=f"{NAME}_{name}",
                folio=duck,
                peer=panda,
                ratio_label="duckdb/pandas queries/s",
                parameters={
                    **built,
                    "question": name,
                    "answer_rows": ours[0],
                    f"total_{check}": ours[1],
                    "repeats": REPEATS,
                    "timer": "time.perf_counter; p50 = median run, p99 = slowest run; files re-read each run",
                },
            )
        )
    return results
