"""The envelope: keys keep an aggregate together, headers carry the event, bad records are named."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest

from folio.core.outbox import ClaimedEvent
from folio.streaming.api import (
    UndecodableRecordError,
    decode_record,
    minor_unit_digits,
    order_facts,
    outgoing_from_event,
)

pytestmark = pytest.mark.unit

SHOP = uuid.uuid4()
WHEN = dt.datetime(2026, 12, 1, 10, 0, 30, tzinfo=dt.UTC)


def event(
    payload: dict[str, Any], *, kind: str = "OrderPaid", tenant: uuid.UUID | None = SHOP
) -> ClaimedEvent:
    """An orders event as the relay claims it."""
    return ClaimedEvent(
        id=42,
        topic="orders",
        key="order-1",
        type=kind,
        schema_version=1,
        payload=payload,
        tenant_id=tenant,
        created_at=WHEN,
        correlation_id="req-1",
        trace_id=None,
        attempts=0,
        last_error=None,
    )


def test_an_outbox_event_travels_keyed_by_shop_and_aggregate_with_its_headers_and_comes_back() -> None:
    """Key ``<shop>:<aggregate>``, the envelope headers, and a round trip through ``decode_record``."""
    record = outgoing_from_event(event({"a": 1}), topic="folio.orders")
    assert record.key == f"{SHOP}:order-1"
    headers = dict(record.headers)
    assert headers["event-id"] == b"outbox-42"
    assert (headers["event-type"], headers["schema-version"], headers["tenant-id"]) == (
        b"OrderPaid",
        b"1",
        str(SHOP).encode(),
    )
    assert headers["correlation-id"] == b"req-1"
    assert "trace-id" not in headers
    back = decode_record(
        topic="folio.orders",
        partition=3,
        offset=7,
        key=record.key.encode(),
        value=record.value,
        headers=record.headers,
    )
    assert (back.event_id, back.family, back.type, back.tenant_id, back.occurred_at, back.payload) == (
        "outbox-42",
        "orders",
        "OrderPaid",
        SHOP,
        WHEN,
        {"a": 1},
    )
    assert outgoing_from_event(event({}, tenant=None), topic="t").key == "-:order-1"


@pytest.mark.parametrize(
    ("value", "drop", "reason"),
    [
        (b"{not json", None, "malformed record"),
        (b"[1]", None, "not a JSON object"),
        (b"{}", "event-id", "no event-id header"),
        (b"{}", "schema-version", "no schema-version header"),
    ],
)
def test_an_undecodable_record_is_named_not_crashed_on(value: bytes, drop: str | None, reason: str) -> None:
    """Bad JSON, a non-object, a missing header: ``UndecodableRecordError`` says which."""
    headers = [(name, raw) for name, raw in outgoing_from_event(event({}), topic="t").headers if name != drop]
    with pytest.raises(UndecodableRecordError, match=reason):
        decode_record(topic="t", partition=0, offset=0, key=None, value=value, headers=headers)


def test_order_facts_normalise_the_currency_and_derive_counts_and_revenue() -> None:
    """Currency upper-cased with its digits, net, revenue on OrderPaid only, lines and items."""
    payload = {
        "order_id": str(uuid.uuid4()),
        "status": "paid",
        "customer_id": None,
        "currency": "jpy",
        "total_minor": 3000,
        "refunded_minor": 500,
        "version": 3,
        "lines": [
            {"listing_id": "l", "work_id": "w", "quantity": 2},
            {"listing_id": "m", "work_id": "v", "quantity": 1},
        ],
    }
    out = outgoing_from_event(event(payload), topic="t")
    record = decode_record(topic="t", partition=0, offset=0, key=None, value=out.value, headers=out.headers)
    facts = order_facts(record)
    assert (facts["currency"], facts["minor_unit_digits"], facts["net_minor"], facts["revenue_minor"]) == (
        "JPY",
        0,
        2500,
        3000,
    )
    assert (facts["line_count"], facts["item_count"], facts["order_version"]) == (2, 3, 3)
    assert json.loads(json.dumps(facts))["occurred_at"] == WHEN.isoformat()
    refunded = decode_record(
        topic="t",
        partition=0,
        offset=1,
        key=None,
        value=out.value,
        headers=outgoing_from_event(event(payload, kind="OrderRefunded"), topic="t").headers,
    )
    assert order_facts(refunded)["revenue_minor"] == 0
    assert (minor_unit_digits("kwd"), minor_unit_digits("EUR")) == (3, 2)
