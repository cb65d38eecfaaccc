"""The analyst's ready-made views (journey J10), defined on every lake connection whose tables exist.

- ``revenue_by_shop_day``: paid orders and gross revenue per shop, UTC day and currency
  (an order counts on the day it was paid; refunds are not subtracted).
- ``best_sellers``: per shop and work, units sold and revenue over paid orders.
- ``funnel_by_shop_day``: per shop and day, customers who put a book in a cart, orders
  placed, orders paid, and the share of carts that ended paid.

They are plain DuckDB views over ``order_events`` and ``order_lines``
(``folio.lake.order_tables``), so a ``WHERE date = ...`` on them still prunes partitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

__all__ = ["VIEWS", "LakeView", "create_views"]


@dataclass(frozen=True)
class LakeView:
    """A named query over lake tables, defined when every table it reads exists."""

    name: str
    reads: tuple[str, ...]
    sql: str
    description: str


VIEWS: tuple[LakeView, ...] = (
    LakeView(
        name="revenue_by_shop_day",
        reads=("order_events",),
        sql="""
            SELECT shop_id, date, currency,
                   count(DISTINCT order_id) AS orders_paid,
                   sum(total_minor)::BIGINT AS revenue_minor
            FROM order_events
            WHERE event_type = 'OrderPaid'
            GROUP BY shop_id, date, currency
        """,
        description="Paid orders and gross revenue (minor units) per shop, UTC day and currency.",
    ),
    LakeView(
        name="best_sellers",
        reads=("order_events", "order_lines"),
        sql="""
            SELECT l.shop_id, l.work_id, any_value(l.title) AS title, l.currency,
                   sum(l.quantity)::BIGINT AS units,
                   sum(l.quantity * l.unit_price_minor)::BIGINT AS revenue_minor
            FROM order_lines AS l
            SEMI JOIN (
              SELECT DISTINCT shop_id, order_id FROM order_events WHERE event_type = 'OrderPaid'
            ) AS p ON l.shop_id = p.shop_id AND l.order_id = p.order_id
            GROUP BY l.shop_id, l.work_id, l.currency
        """,
        description="Units and revenue per shop and work, over paid orders.",
    ),
    LakeView(
        name="funnel_by_shop_day",
        reads=("order_events",),
        sql="""
            SELECT shop_id, date, carts, placed, paid,
                   CASE WHEN carts = 0 THEN NULL ELSE round(paid / carts, 4) END AS cart_to_paid
            FROM (
              SELECT shop_id, date,
                     count(DISTINCT customer_id) FILTER (WHERE event_type = 'CartItemAdded') AS carts,
                     count(DISTINCT order_id) FILTER (WHERE event_type = 'OrderPlaced') AS placed,
                     count(DISTINCT order_id) FILTER (WHERE event_type = 'OrderPaid') AS paid
              FROM order_events
              GROUP BY shop_id, date
            )
        """,
        description="Per shop and day: customers with a cart, orders placed and paid, carts ending paid.",
    ),
)
"""Every ready-made view, in the order they are defined."""


def create_views(connection: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> list[str]:
    """Define on ``connection`` each view whose tables are all in ``tables``; their names."""
    defined = []
    for view in VIEWS:
        if all(name in tables for name in view.reads):
            connection.execute(f'CREATE VIEW "{view.name}" AS {view.sql}')
            defined.append(view.name)
    return defined
