"""The windows stage's records: emissions match their published schema, late facts say why and how late."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from folio.streaming.envelope import decode_record
from folio.streaming.event_schemas import EventSchemas
from folio.streaming.topics import WINDOWS_FAMILY
from folio.streaming.window_stage import WINDOWS_TYPE, WINDOWS_VERSION, late_record, window_record
from folio.streaming.windows import LateEvent, PaidOrder, WindowKey, WindowResult

pytestmark = pytest.mark.unit

SHOP = uuid.UUID(int=7)
START = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def test_a_window_emission_is_a_shop_keyed_record_its_schema_accepts() -> None:
    """Key: the shop; headers name ShopMinuteTotals v1; the value passes orders.windows' schema."""
    result = WindowResult(
        WindowKey(SHOP, "EUR", START),
        end=START + dt.timedelta(minutes=1),
        revenue_minor=1234,
        orders=3,
        revision=2,
        final=False,
        watermark=START,
    )
    record = window_record(result, topic="t.orders.windows", now=START)
    decoded = decode_record(
        topic=record.topic,
        partition=0,
        offset=0,
        key=record.key.encode(),
        value=record.value,
        headers=record.headers,
    )
    EventSchemas.load().check(WINDOWS_FAMILY, WINDOWS_TYPE, WINDOWS_VERSION, decoded.payload)
    assert decoded.key == str(SHOP)
    assert decoded.tenant_id == SHOP
    assert decoded.payload["revision"] == 2
    assert decoded.payload["update"] is True
    assert decoded.payload["revenue_minor"] == 1234
    assert decoded.event_id.endswith(":EUR:r2")


def test_a_late_fact_keeps_its_value_and_envelope_and_says_why_and_how_late() -> None:
    """The side output carries the fact as read, plus late-reason and late-behind-ms."""
    facts = {"tenant_id": str(SHOP), "currency": "EUR", "revenue_minor": 5, "event_type": "OrderPaid"}
    source = decode_record(
        topic="t.orders.facts",
        partition=1,
        offset=9,
        key=b"k",
        value=json.dumps(facts).encode(),
        headers=[
            ("event-id", b"outbox-9"),
            ("event-type", b"OrderFacts"),
            ("schema-version", b"1"),
            ("event-family", b"orders.facts"),
            ("occurred-at", START.isoformat().encode()),
        ],
    )
    order = PaidOrder("outbox-9", SHOP, "EUR", 5, START, ("t.orders.facts", 1), 9)
    late = LateEvent(
        order,
        START,
        START + dt.timedelta(minutes=1),
        START + dt.timedelta(minutes=3),
        dt.timedelta(seconds=60),
    )
    record = late_record(source, late, topic="t.orders.late")
    headers = dict(record.headers)
    assert (record.topic, record.key, record.event_id) == ("t.orders.late", "k", "outbox-9")
    assert json.loads(record.value) == facts
    assert headers["late-behind-ms"] == b"180000"
    assert headers["event-type"] == b"OrderFacts"
    assert b"closed" in headers["late-reason"]  # type: ignore[operator]
