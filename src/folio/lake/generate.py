"""GENERATED order events for volume: synthetic rows for the benchmark and the view tests, never real sales.

``generated_orders(rows=N)`` makes about ``N`` rows of ``order_events`` (and the
``order_lines`` of the placed orders) spread over ``shops`` shops and ``days`` days,
reproducibly from ``seed``. Every generated shop id starts with ``00000000-``, every
event id with ``gen-``, and ``folio lake generate orders`` records the source
``generated:orders`` in the manifest, so generated rows can never pass for real ones.

Per order: a ``CartItemAdded`` by its customer, ``OrderPlaced``, then ``OrderPaid`` for
about 80% of orders; about one cart in four is abandoned (a ``CartItemAdded`` with no
order). 1 to 3 lines per order, 1 to 2 copies each, prices from 3 to 40 euros.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from folio.lake.order_tables import CART_ITEM_ADDED

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["GENERATED_SOURCE", "generated_orders"]

GENERATED_SOURCE = "generated:orders"
"""The ``source`` the manifest records for generated rows."""

_EVENTS_PER_ORDER = 3.05
"""Cart + placed + 0.8 paid + 0.25 abandoned carts: what one order costs in event rows."""


def _ids(prefix: str, numbers: object) -> pa.Array:
    """``<prefix><number, 12 hex digits>`` for each number, built in Arrow (millions in a second)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), 12, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def generated_orders(
    rows: int, *, shops: int = 20, days: int = 30, end: dt.date | None = None, seed: int = 13
) -> tuple[pa.Table, pa.Table]:
    """GENERATED ``order_events`` (about ``rows`` of them) and their ``order_lines``, ending on ``end``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if rows < 1 or shops < 1 or days < 1:
        raise ValueError("rows, shops and days must be positive")
    end = end or dt.datetime.now(dt.UTC).date()
    random = np.random.default_rng(seed)
    orders = max(1, int(rows / _EVENTS_PER_ORDER))
    order_numbers = np.arange(orders)
    shop = random.integers(0, shops, orders)
    day = random.integers(0, days, orders)
    customers = random.integers(0, max(10, orders // 3), orders)
    start = np.datetime64(end - dt.timedelta(days=days - 1), "us")
    placed_at = start + (day * 86_400 + random.integers(60, 86_000, orders)).astype("timedelta64[s]")
    paid = random.random(orders) < 0.8  # noqa: PLR2004 - the share of placed orders that are paid
    lines_per_order = random.integers(1, 4, orders)
    line_order = np.repeat(order_numbers, lines_per_order)
    line_count = len(line_order)
    prices = random.integers(300, 4000, line_count)
    quantities = random.integers(1, 3, line_count)
    line_totals = np.bincount(line_order, weights=prices * quantities, minlength=orders).astype(np.int64)
    abandoned = random.random(orders) < 0.25  # noqa: PLR2004 - carts left without an order

    shop_ids = np.array([f"00000000-0000-4000-8000-{number:012d}" for number in range(shops)])
    order_ids = _ids("00000000-0000-4000-9000-", order_numbers)
    customer_ids = _ids("00000000-0000-4000-a000-", customers)

    def events(kind: str, mask: np.ndarray, at: np.ndarray, *, order: bool = True) -> pa.Table:
        picked = np.nonzero(mask)[0]
        occurred = at[picked]
        return pa.table(
            {
                "event_id": _ids(f"gen-{kind}-", picked),
                "event_type": pa.array([kind] * len(picked)) if len(picked) else pa.array([], pa.string()),
                "occurred_at": pa.array(occurred, pa.timestamp("us", tz="UTC")),
                "date": pa.array(occurred.astype("datetime64[D]"), pa.date32()),
                "shop_id": pa.array(shop_ids[shop[picked]]),
                "order_id": order_ids.take(pa.array(picked)) if order else pa.nulls(len(picked), pa.string()),
                "customer_id": customer_ids.take(pa.array(picked)),
                "status": pa.array(["paid" if kind == "OrderPaid" else None] * len(picked), pa.string()),
                "currency": pa.array(["EUR"] * len(picked)),
                "total_minor": pa.array(line_totals[picked]) if order else pa.nulls(len(picked), pa.int64()),
            }
        )

    everyone = np.ones(orders, dtype=bool)
    carted_at = placed_at - np.timedelta64(300, "s")
    tables = [
        events(CART_ITEM_ADDED, everyone, carted_at, order=False),
        events(CART_ITEM_ADDED, abandoned, carted_at, order=False),
        events("OrderPlaced", everyone, placed_at),
        events("OrderPaid", paid, placed_at + np.timedelta64(120, "s")),
    ]
    # Abandoned carts belong to other customers than the order's.
    tables[1] = tables[1].set_column(
        tables[1].schema.get_field_index("customer_id"),
        "customer_id",
        _ids("00000000-0000-4000-b000-", np.nonzero(abandoned)[0]),
    )
    tables[1] = tables[1].set_column(0, "event_id", _ids("gen-abandoned-", np.nonzero(abandoned)[0]))
    event_rows = pa.concat_tables(tables)
    positions = np.arange(line_count) - np.repeat(
        np.cumsum(lines_per_order) - lines_per_order, lines_per_order
    )
    works = random.integers(0, 5000, line_count)
    line_rows = pa.table(
        {
            "event_id": _ids("gen-OrderPlaced-", line_order),
            "order_id": order_ids.take(pa.array(line_order)),
            "occurred_at": pa.array(placed_at[line_order], pa.timestamp("us", tz="UTC")),
            "date": pa.array(placed_at[line_order].astype("datetime64[D]"), pa.date32()),
            "shop_id": pa.array(shop_ids[shop[line_order]]),
            "position": pa.array(positions, pa.int32()),
            "listing_id": _ids("00000000-0000-4000-c000-", works + shop[line_order] * 5000),
            "work_id": _ids("00000000-0000-4000-d000-", works),
            "title": pc.binary_join_element_wise(
                pa.scalar("Generated title "), pc.cast(pa.array(works), pa.string()), ""
            ),
            "quantity": pa.array(quantities, pa.int32()),
            "unit_price_minor": pa.array(prices, pa.int64()),
            "currency": pa.array(["EUR"] * line_count),
        }
    )
    return event_rows, line_rows
