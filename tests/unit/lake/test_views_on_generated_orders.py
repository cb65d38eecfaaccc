"""The analyst's J10 views, checked on GENERATED orders against answers computed here row by row."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pytest

from folio.core.settings import Settings
from folio.lake.api import Lake, lake_for, order_events_table, order_lines_table
from folio.lake.generate import GENERATED_SOURCE, generated_orders

pytestmark = pytest.mark.unit

END = dt.date(2026, 12, 4)


@pytest.fixture(scope="module")
def generated_order_rows() -> tuple[pa.Table, pa.Table]:
    """GENERATED order events and lines (synthetic, not sales): 3 shops over 4 days."""
    return generated_orders(3000, shops=3, days=4, end=END, seed=7)


@pytest.fixture
def lake_of_generated_orders(
    settings: Settings, tmp_path: Path, generated_order_rows: tuple[pa.Table, pa.Table]
) -> Lake:
    """A local lake holding the GENERATED orders, labelled so in its manifests."""
    lake_settings = settings.model_copy(
        update={"lake": settings.lake.model_copy(update={"backend": "local", "path": tmp_path})}
    )
    lake = lake_for(lake_settings)
    events, lines = generated_order_rows
    lake.append(order_events_table(), events, source=GENERATED_SOURCE)
    lake.append(order_lines_table(), lines, source=GENERATED_SOURCE)
    return lake


def test_generated_rows_say_so(lake_of_generated_orders: Lake) -> None:
    """Every file of generated rows is recorded with the source ``generated:orders``; ids carry ``gen-``."""
    manifest = lake_of_generated_orders.manifest("order_events")
    assert {entry.source for entry in manifest.files} == {"generated:orders"}
    assert lake_of_generated_orders.query(
        "SELECT count(*) AS n FROM order_events WHERE NOT starts_with(event_id, 'gen-')"
    ).to_pylist() == [{"n": 0}]


def test_revenue_by_shop_and_day(
    lake_of_generated_orders: Lake, generated_order_rows: tuple[pa.Table, pa.Table]
) -> None:
    """``revenue_by_shop_day`` sums the paid orders' totals per shop and day."""
    events = generated_order_rows[0].to_pylist()
    expected: dict[tuple[str, dt.date], int] = Counter()
    for event in events:
        if event["event_type"] == "OrderPaid":
            expected[(event["shop_id"], event["date"])] += event["total_minor"]

    rows = lake_of_generated_orders.query("SELECT * FROM revenue_by_shop_day").to_pylist()

    assert {(row["shop_id"], row["date"]): row["revenue_minor"] for row in rows} == expected
    assert len(expected) == 12


def test_best_sellers(
    lake_of_generated_orders: Lake, generated_order_rows: tuple[pa.Table, pa.Table]
) -> None:
    """``best_sellers`` counts the units of paid orders only, per shop and work."""
    events, lines = (table.to_pylist() for table in generated_order_rows)
    paid = {event["order_id"] for event in events if event["event_type"] == "OrderPaid"}
    units: dict[tuple[str, str], int] = Counter()
    for line in lines:
        if line["order_id"] in paid:
            units[(line["shop_id"], line["work_id"])] += line["quantity"]

    rows = lake_of_generated_orders.query("SELECT * FROM best_sellers").to_pylist()

    assert {(row["shop_id"], row["work_id"]): row["units"] for row in rows} == units
    assert len(paid) < len({line["order_id"] for line in lines})


def test_funnel_from_cart_to_paid(
    lake_of_generated_orders: Lake, generated_order_rows: tuple[pa.Table, pa.Table]
) -> None:
    """``funnel_by_shop_day`` counts customers with a cart, orders placed and paid, per shop and day."""
    steps: dict[tuple[str, dt.date], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for event in generated_order_rows[0].to_pylist():
        key = (event["shop_id"], event["date"])
        if event["event_type"] == "CartItemAdded":
            steps[key]["carts"].add(event["customer_id"])
        elif event["event_type"] in {"OrderPlaced", "OrderPaid"}:
            steps[key][event["event_type"]].add(event["order_id"])

    rows = lake_of_generated_orders.query(
        "SELECT * FROM funnel_by_shop_day WHERE date = ?", [END]
    ).to_pylist()

    assert rows
    for row in rows:
        step = steps[(row["shop_id"], row["date"])]
        counts = (len(step["carts"]), len(step["OrderPlaced"]), len(step["OrderPaid"]))
        assert (row["carts"], row["placed"], row["paid"]) == counts
        assert row["cart_to_paid"] == round(counts[2] / counts[0], 4)
        assert 0 < row["paid"] < row["placed"] < row["carts"]
