"""The lake's commerce tables: order events and order lines, the facts the analyst's J10 views read.

These are the contract between whoever writes orders into the lake (the Kafka event
pipeline's sink, ``folio.streaming``; the generated load of ``folio lake generate
orders``) and whoever reads them (``folio.lake.views``, the analyst's SQL):

- ``order_events``: one row per event an order (or a cart) went through, partitioned
  by the UTC day it happened and the shop. ``event_type`` is the outbox type
  (``OrderPlaced``, ``OrderPaid``, ``OrderCancelled``, ``OrderRefunded``, ...) or
  ``CartItemAdded``, the funnel's first step; ``event_id`` is unique (the sink's
  idempotency key). Money is in minor units with its ISO currency.
- ``order_lines``: the lines of each placed order, enriched with the title and the unit
  price at the time (the outbox payload carries ids and quantities; the pipeline's
  transform stage adds the rest), partitioned by the day the order was placed.

A new column is added as nullable with the next ``schema_version``; old files read as
null there. Removing or retyping a column is a new table.
"""

from __future__ import annotations

from functools import cache

from folio.lake.tables import LakeTable

__all__ = ["CART_ITEM_ADDED", "order_events_table", "order_lines_table"]

CART_ITEM_ADDED = "CartItemAdded"
"""The ``event_type`` of a book put in a cart: the first step of the funnel."""


@cache
def order_events_table() -> LakeTable:
    """``order_events``: every event of every order and cart, by day and shop."""
    import pyarrow as pa

    return LakeTable(
        name="order_events",
        schema=pa.schema(
            [
                pa.field("event_id", pa.string(), nullable=False),
                pa.field("event_type", pa.string(), nullable=False),
                pa.field("occurred_at", pa.timestamp("us", tz="UTC"), nullable=False),
                pa.field("date", pa.date32(), nullable=False),
                pa.field("shop_id", pa.string(), nullable=False),
                pa.field("order_id", pa.string()),
                pa.field("customer_id", pa.string()),
                pa.field("status", pa.string()),
                pa.field("currency", pa.string()),
                pa.field("total_minor", pa.int64()),
                pa.field("refunded_minor", pa.int64()),
            ]
        ),
        description="Order and cart events (outbox type, order, customer, money), by UTC day and shop.",
    )


@cache
def order_lines_table() -> LakeTable:
    """``order_lines``: the lines of each placed order, by the day it was placed and the shop."""
    import pyarrow as pa

    return LakeTable(
        name="order_lines",
        schema=pa.schema(
            [
                pa.field("event_id", pa.string(), nullable=False),
                pa.field("order_id", pa.string(), nullable=False),
                pa.field("occurred_at", pa.timestamp("us", tz="UTC"), nullable=False),
                pa.field("date", pa.date32(), nullable=False),
                pa.field("shop_id", pa.string(), nullable=False),
                pa.field("position", pa.int32(), nullable=False),
                pa.field("listing_id", pa.string(), nullable=False),
                pa.field("work_id", pa.string(), nullable=False),
                pa.field("title", pa.string()),
                pa.field("quantity", pa.int32(), nullable=False),
                pa.field("unit_price_minor", pa.int64(), nullable=False),
                pa.field("currency", pa.string(), nullable=False),
            ]
        ),
        description="Lines of placed orders (work, title, quantity, unit price), by UTC day and shop.",
    )
