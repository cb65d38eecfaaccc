"""The daily aggregate tables: one day of ``order_events``/``order_lines`` summed per shop and per work.

``aggregate_day(lake, day)`` builds day ``day``'s partitions of three tables from the
order facts (``folio.lake.order_tables``), each partitioned by ``date`` and ``shop_id``:

- ``shop_daily_sales``: per shop and currency, the orders paid that day, their gross
  revenue (minor units) and the units on their lines;
- ``work_daily_sales``: per shop, work and currency, units and revenue of the lines of
  the orders paid that day;
- ``shop_daily_funnel``: per shop, customers who put a book in a cart, orders placed,
  orders paid, and the share of carts that ended paid.

An order counts on the day it was paid, as in the J10 views (``folio.lake.views``); its
lines are found whatever day it was placed. Each table's day is written with
``Lake.replace_partitions``, so running a day again replaces it and never doubles it; a
day with no order event empties the day's partitions and says so (``events == 0``).
``shops`` limits the work (and the replacement) to those shops.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from folio.lake.order_tables import CART_ITEM_ADDED, order_events_table, order_lines_table
from folio.lake.tables import LakeTable

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from folio.lake.lake import Lake

__all__ = ["AGGREGATE_SOURCE", "AggregateReport", "aggregate_day", "aggregate_tables"]

AGGREGATE_SOURCE = "aggregate:daily"
"""The ``source`` the manifests record for aggregate files."""


@cache
def aggregate_tables() -> tuple[LakeTable, ...]:
    """The three aggregate tables, in the order ``aggregate_day`` writes them."""
    import pyarrow as pa

    def key(name: str) -> pa.Field:
        return pa.field(name, pa.string(), nullable=False)

    def count(name: str) -> pa.Field:
        return pa.field(name, pa.int64(), nullable=False)

    day = pa.field("date", pa.date32(), nullable=False)
    return (
        LakeTable(
            name="shop_daily_sales",
            schema=pa.schema(
                [
                    key("shop_id"),
                    day,
                    key("currency"),
                    count("orders_paid"),
                    count("revenue_minor"),
                    count("units"),
                ]
            ),
            description="Per shop, day and currency: orders paid, gross revenue (minor units), units sold.",
        ),
        LakeTable(
            name="work_daily_sales",
            schema=pa.schema(
                [
                    key("shop_id"),
                    day,
                    key("work_id"),
                    pa.field("title", pa.string()),
                    key("currency"),
                    count("units"),
                    count("revenue_minor"),
                ]
            ),
            description="Per shop, day and work: units and revenue over the orders paid that day.",
        ),
        LakeTable(
            name="shop_daily_funnel",
            schema=pa.schema(
                [
                    key("shop_id"),
                    day,
                    count("carts"),
                    count("placed"),
                    count("paid"),
                    pa.field("cart_to_paid", pa.float64()),
                ]
            ),
            description="Per shop and day: customers with a cart, orders placed and paid, carts ending paid.",
        ),
    )


_DAY_FACTS = (
    """
    CREATE TEMP TABLE paid AS
    SELECT shop_id, order_id, any_value(currency) AS currency, any_value(total_minor) AS total_minor
    FROM order_events
    WHERE date = $day AND event_type = 'OrderPaid' AND shop_id IN (SELECT shop_id FROM chosen)
    GROUP BY shop_id, order_id
    """,
    """
    CREATE TEMP TABLE paid_lines AS
    SELECT l.* FROM order_lines AS l
    SEMI JOIN paid AS p ON l.shop_id = p.shop_id AND l.order_id = p.order_id
    """,
)
"""The day's paid orders (``paid``) and their lines, whatever day they were placed (``paid_lines``)."""

_SQL = {
    "shop_daily_sales": """
        WITH units AS (SELECT shop_id, order_id, sum(quantity) AS units FROM paid_lines GROUP BY ALL)
        SELECT p.shop_id, $day AS date, p.currency, count(*) AS orders_paid,
               sum(p.total_minor)::BIGINT AS revenue_minor, coalesce(sum(u.units), 0)::BIGINT AS units
        FROM paid AS p LEFT JOIN units AS u USING (shop_id, order_id)
        GROUP BY p.shop_id, p.currency
    """,
    "work_daily_sales": """
        SELECT shop_id, $day AS date, work_id, any_value(title) AS title, currency,
               sum(quantity)::BIGINT AS units, sum(quantity * unit_price_minor)::BIGINT AS revenue_minor
        FROM paid_lines
        GROUP BY shop_id, work_id, currency
    """,
    "shop_daily_funnel": """
        SELECT shop_id, $day AS date, carts, placed, paid,
               CASE WHEN carts = 0 THEN NULL ELSE round(paid / carts, 4) END AS cart_to_paid
        FROM (
          SELECT shop_id,
                 count(DISTINCT customer_id) FILTER (WHERE event_type = $cart) AS carts,
                 count(DISTINCT order_id) FILTER (WHERE event_type = 'OrderPlaced') AS placed,
                 count(DISTINCT order_id) FILTER (WHERE event_type = 'OrderPaid') AS paid
          FROM order_events
          WHERE date = $day AND shop_id IN (SELECT shop_id FROM chosen)
          GROUP BY shop_id
        )
    """,
}
"""Each table's day (``$day``); ``chosen`` is the shops' filter (a one-column view), ``$cart`` a cart."""


@dataclass(frozen=True)
class AggregateReport:
    """What ``aggregate_day`` wrote: the day's order events read, and rows written/replaced per table."""

    date: dt.date
    events: int
    rows: dict[str, int]
    replaced_rows: dict[str, int]
    shops: tuple[str, ...]
    """The shops the run was limited to; empty for every shop."""


def _ensure_facts(connection: duckdb.DuckDBPyConnection, present: Sequence[str]) -> None:
    """An empty ``order_events``/``order_lines`` for a lake that has none yet, so the SQL still binds."""
    for table in (order_events_table(), order_lines_table()):
        if table.name not in present:
            connection.register(table.name, table.schema.empty_table())


def _chosen(connection: duckdb.DuckDBPyConnection, shops: Sequence[str]) -> None:
    """The view ``chosen``: ``shops``, or every shop of the day's events when empty."""
    import pyarrow as pa

    if shops:
        connection.register("chosen", pa.table({"shop_id": pa.array(list(shops), pa.string())}))
    else:
        connection.execute("CREATE VIEW chosen AS SELECT DISTINCT shop_id FROM order_events")


def aggregate_day(lake: Lake, day: dt.date, *, shops: Sequence[str] = ()) -> AggregateReport:
    """Build day ``day`` of every aggregate table, replacing what was there (for ``shops``, or all).

    Blocking (call it with ``asyncio.to_thread`` from async code). Idempotent: the same
    facts give the same rows however often it runs.
    """
    built: dict[str, pa.Table] = {}
    tables = aggregate_tables()
    present = lake.tables()
    with lake.connect() as connection:
        _ensure_facts(connection, present)
        _chosen(connection, shops)
        events_row = connection.execute(
            "SELECT count(*) FROM order_events WHERE date = $day AND shop_id IN (SELECT shop_id FROM chosen)",
            {"day": day},
        ).fetchone()
        events = int(events_row[0]) if events_row else 0
        for statement in _DAY_FACTS:
            connection.execute(statement, _params(statement, day))
        for table in tables:
            sql = _SQL[table.name]
            built[table.name] = connection.sql(sql, params=_params(sql, day)).to_arrow_table()
    rows: dict[str, int] = {}
    replaced: dict[str, int] = {}
    for table in tables:
        if shops:
            reports = [
                lake.replace_partitions(
                    table,
                    _of_shop(built[table.name], shop),
                    where={"date": day, "shop_id": shop},
                    source=AGGREGATE_SOURCE,
                )
                for shop in shops
            ]
        else:
            reports = [
                lake.replace_partitions(
                    table, built[table.name], where={"date": day}, source=AGGREGATE_SOURCE
                )
            ]
        rows[table.name] = sum(report.rows for report in reports)
        replaced[table.name] = sum(report.replaced_rows for report in reports)
    return AggregateReport(date=day, events=events, rows=rows, replaced_rows=replaced, shops=tuple(shops))


def _params(sql: str, day: dt.date) -> dict[str, object]:
    """The named parameters ``sql`` uses (DuckDB refuses one it does not)."""
    return {name: value for name, value in (("day", day), ("cart", CART_ITEM_ADDED)) if f"${name}" in sql}


def _of_shop(rows: pa.Table, shop: str) -> pa.Table:
    import pyarrow.compute as pc

    return rows.filter(pc.equal(rows.column("shop_id"), shop))
