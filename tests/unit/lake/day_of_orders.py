"""One GENERATED day of orders (synthetic, for tests): two shops, three orders, their lines and carts.

The aggregates' right answers are written out beside the rows (``EXPECTED_*``), so a
test compares what the lake computed with numbers computed by hand.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pyarrow as pa

from folio.lake.api import CART_ITEM_ADDED, Lake, order_events_table, order_lines_table

GENERATED_SOURCE = "generated:test-day"
SHOP_A = str(uuid.UUID(int=0xA))
SHOP_B = str(uuid.UUID(int=0xB))

EXPECTED_SHOP_SALES = {SHOP_A: (1, 1300, 3), SHOP_B: (1, 450, 1)}
"""Per shop: orders paid, revenue (minor units), units."""
EXPECTED_FUNNEL = {SHOP_A: (3, 2, 1, 0.3333), SHOP_B: (1, 1, 1, 1.0)}
"""Per shop: carts, placed, paid, cart_to_paid."""
EXPECTED_WORKS = {(SHOP_A, "w1"): (2, 1000), (SHOP_A, "w2"): (1, 300), (SHOP_B, "w1"): (1, 450)}
"""Per shop and work: units, revenue."""


def generated_day(day: dt.date, *, paid_total_sign: int = 1) -> tuple[pa.Table, pa.Table]:
    """GENERATED ``order_events`` and ``order_lines`` for ``day``; ``paid_total_sign=-1`` makes a bad day.

    Shop A: three customers put books in carts, two order, one pays (1300 for 2 x w1 at
    500 and 1 x w2 at 300). Shop B: one customer orders and pays 450 for 1 x w1.
    """
    at = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)
    tag = day.isoformat()
    events = [
        (f"gen-{tag}-c1", CART_ITEM_ADDED, SHOP_A, None, "c1", None),
        (f"gen-{tag}-c2", CART_ITEM_ADDED, SHOP_A, None, "c2", None),
        (f"gen-{tag}-c3", CART_ITEM_ADDED, SHOP_A, None, "c3", None),
        (f"gen-{tag}-p1", "OrderPlaced", SHOP_A, f"o1-{tag}", "c1", 1300),
        (f"gen-{tag}-p2", "OrderPlaced", SHOP_A, f"o2-{tag}", "c2", 800),
        (f"gen-{tag}-y1", "OrderPaid", SHOP_A, f"o1-{tag}", "c1", 1300 * paid_total_sign),
        (f"gen-{tag}-c4", CART_ITEM_ADDED, SHOP_B, None, "c4", None),
        (f"gen-{tag}-p3", "OrderPlaced", SHOP_B, f"o3-{tag}", "c4", 450),
        (f"gen-{tag}-y3", "OrderPaid", SHOP_B, f"o3-{tag}", "c4", 450),
    ]
    event_rows = pa.table(
        {
            "event_id": [row[0] for row in events],
            "event_type": [row[1] for row in events],
            "occurred_at": pa.array([at] * len(events), pa.timestamp("us", tz="UTC")),
            "date": pa.array([day] * len(events), pa.date32()),
            "shop_id": [row[2] for row in events],
            "order_id": [row[3] for row in events],
            "customer_id": [row[4] for row in events],
            "currency": ["EUR"] * len(events),
            "total_minor": pa.array([row[5] for row in events], pa.int64()),
        }
    )
    lines = [
        (f"o1-{tag}", SHOP_A, 1, "w1", 2, 500),
        (f"o1-{tag}", SHOP_A, 2, "w2", 1, 300),
        (f"o2-{tag}", SHOP_A, 1, "w2", 1, 800),
        (f"o3-{tag}", SHOP_B, 1, "w1", 1, 450),
    ]
    line_rows = pa.table(
        {
            "event_id": [f"gen-{tag}-line-{n}" for n in range(len(lines))],
            "order_id": [row[0] for row in lines],
            "occurred_at": pa.array([at] * len(lines), pa.timestamp("us", tz="UTC")),
            "date": pa.array([day] * len(lines), pa.date32()),
            "shop_id": [row[1] for row in lines],
            "position": pa.array([row[2] for row in lines], pa.int32()),
            "listing_id": [f"l-{row[3]}" for row in lines],
            "work_id": [row[3] for row in lines],
            "title": [f"Generated title {row[3]}" for row in lines],
            "quantity": pa.array([row[4] for row in lines], pa.int32()),
            "unit_price_minor": pa.array([row[5] for row in lines], pa.int64()),
            "currency": ["EUR"] * len(lines),
        }
    )
    return event_rows, line_rows


def append_generated_day(lake: Lake, day: dt.date, *, paid_total_sign: int = 1) -> None:
    """Append ``generated_day(day)`` to the lake's order tables, labelled as generated."""
    events, lines = generated_day(day, paid_total_sign=paid_total_sign)
    lake.append(order_events_table(), events, source=GENERATED_SOURCE)
    lake.append(order_lines_table(), lines, source=GENERATED_SOURCE)
