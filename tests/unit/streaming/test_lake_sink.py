"""The lake sink: orders and cart events into the lake's order tables, each event once, on a local lake."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from folio.core.objectstore import FileSystemObjectStore
from folio.core.settings import Settings
from folio.lake.api import Lake, order_lines_table
from folio.streaming.consumer import Rejected
from folio.streaming.envelope import StreamRecord
from folio.streaming.lake_sink import LakeSink, LakeWrite

pytestmark = pytest.mark.unit

SHOP = uuid.UUID("5a0d1e2f-0000-4000-8000-000000000001")
ORDER = "6b1c2d3e-0000-4000-8000-000000000002"
CUSTOMER = "7c2d3e4f-0000-4000-8000-000000000003"
WHEN = dt.datetime(2026, 12, 3, 23, 59, 30, tzinfo=dt.UTC)


def _record(
    event_id: str,
    family: str,
    kind: str,
    payload: dict[str, Any],
    *,
    offset: int,
    shop: uuid.UUID | None = SHOP,
) -> StreamRecord:
    return StreamRecord(
        event_id=event_id,
        family=family,
        type=kind,
        schema_version=1,
        tenant_id=shop,
        occurred_at=WHEN + dt.timedelta(seconds=offset * 20),
        correlation_id=None,
        trace_id=None,
        key=f"{shop}:{ORDER}",
        payload=payload,
        topic=f"test.{family}",
        partition=0,
        offset=offset,
    )


def _order(status: str, *, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "order_id": ORDER,
        "status": status,
        "customer_id": CUSTOMER,
        "currency": "eur",
        "total_minor": 2400,
        "refunded_minor": 0,
        "lines": lines,
        "version": 1,
    }


LINES = [
    {
        "listing_id": str(uuid.uuid4()),
        "work_id": str(uuid.uuid4()),
        "quantity": 2,
        "title": "Middlemarch",
        "unit_price_minor": 900,
    },
    {
        "listing_id": str(uuid.uuid4()),
        "work_id": str(uuid.uuid4()),
        "quantity": 1,
        "title": "Emma",
        "unit_price_minor": 600,
    },
]
BATCH = [
    _record(
        "e-cart",
        "carts",
        "CartItemAdded",
        {
            "customer_id": CUSTOMER,
            "listing_id": LINES[0]["listing_id"],
            "work_id": LINES[0]["work_id"],
            "quantity": 2,
        },
        offset=0,
    ),
    _record("e-placed", "orders", "OrderPlaced", _order("pending_payment", lines=LINES), offset=1),
    _record("e-paid", "orders", "OrderPaid", _order("paid", lines=LINES), offset=2),
]


def _sink(lake: Lake, records: list[StreamRecord]) -> list[Rejected]:
    """The sink's handler on ``records``, as its consumer runs it (the lake from a worker thread)."""
    return asyncio.run(LakeSink(lake)(records))


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """A lake in a temporary folder."""
    root = tmp_path / "lake"
    return Lake(FileSystemObjectStore(root), config=Settings().lake, location=str(root), local_root=root)


def test_a_batch_lands_as_order_events_and_the_lines_of_placed_orders(lake: Lake) -> None:
    """Every event a row of order_events in its UTC day; the placed order's lines with title and price."""
    rejected = _sink(lake, BATCH)

    assert rejected == []
    events = lake.query(
        "SELECT event_id, event_type, date, shop_id, currency FROM order_events ORDER BY occurred_at"
    )
    assert events.column("event_id").to_pylist() == ["e-cart", "e-placed", "e-paid"]
    # 23:59:30, 23:59:50, then 00:00:10: each event is in the partition of its own UTC day.
    assert [str(day) for day in events.column("date").to_pylist()] == [
        "2026-12-03",
        "2026-12-03",
        "2026-12-04",
    ]
    assert set(events.column("shop_id").to_pylist()) == {str(SHOP)}
    assert events.column("currency").to_pylist() == [None, "EUR", "EUR"]
    lines = lake.query(
        "SELECT position, title, quantity, unit_price_minor FROM order_lines ORDER BY position"
    )
    assert lines.to_pylist() == [
        {"position": 1, "title": "Middlemarch", "quantity": 2, "unit_price_minor": 900},
        {"position": 2, "title": "Emma", "quantity": 1, "unit_price_minor": 600},
    ]
    assert lake.query("SELECT * FROM revenue_by_shop_day").column("revenue_minor").to_pylist() == [2400]
    funnel = lake.query("SELECT sum(carts) AS carts, sum(paid) AS paid FROM funnel_by_shop_day").to_pylist()
    assert funnel == [{"carts": 1, "paid": 1}]


def test_a_batch_read_again_adds_nothing(lake: Lake) -> None:
    """At-least-once delivery: events the lake holds are not appended again."""
    _sink(lake, BATCH[:2])

    _sink(lake, BATCH)  # the first two again (an uncommitted batch re-read), and one new

    counts = lake.query(
        "SELECT (SELECT count(*) FROM order_events) AS events, (SELECT count(*) FROM order_lines) AS lines"
    )
    assert counts.to_pylist() == [{"events": 3, "lines": 2}]


def test_a_crash_between_the_two_appends_is_finished_by_the_replay(lake: Lake) -> None:
    """Each table is checked on its own, so a replay completes a half-written batch without doubling it."""
    write = LakeWrite()
    write.add(BATCH[1])
    # As if the process died between the appends: the placed order's lines are in, its event is not.
    lake.append(order_lines_table(), pa.Table.from_pylist(write.lines, schema=order_lines_table().schema))

    _sink(lake, [BATCH[1]])

    counts = lake.query(
        "SELECT (SELECT count(*) FROM order_events) AS events, (SELECT count(*) FROM order_lines) AS lines"
    )
    assert counts.to_pylist() == [{"events": 1, "lines": 2}]


def test_other_families_and_shopless_events_are_refused(lake: Lake) -> None:
    """Payments events and events without a shop are dead-lettered, not written."""
    stray = _record("e-pay", "payments", "payment_intent.succeeded", {}, offset=5)
    shopless = _record(
        "e-none", "orders", "OrderPlaced", _order("pending_payment", lines=LINES), offset=6, shop=None
    )

    rejected = _sink(lake, [stray, shopless])

    assert [item.record.event_id for item in rejected] == ["e-pay", "e-none"]
    assert "order_events" not in lake.tables()
