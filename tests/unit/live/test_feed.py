"""The live stage's updates per event type."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from folio.live.api import Update, updates_for
from folio.streaming.api import StreamRecord

pytestmark = pytest.mark.unit

CUSTOMER = uuid.uuid4()


def record(family: str, kind: str, payload: dict[str, Any]) -> StreamRecord:
    """A decoded record of ``kind`` with ``payload``."""
    return StreamRecord(
        event_id=f"outbox-{uuid.uuid4().int % 10**6}",
        family=family,
        type=kind,
        schema_version=1,
        tenant_id=uuid.uuid4(),
        occurred_at=dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC),
        correlation_id=None,
        trace_id=None,
        key="k",
        payload=payload,
        topic=f"folio.{family}",
        partition=0,
        offset=0,
    )


def order(status: str) -> dict[str, Any]:
    """An orders payload of ``status``: 14.90 EUR (the currency as the relay may carry it)."""
    return {"order_id": str(uuid.uuid4()), "status": status, "customer_id": str(CUSTOMER), "currency": "eur",
            "total_minor": 1490, "refunded_minor": 0, "lines": [], "version": 2}  # fmt: skip


def test_placed_counts_an_order_and_checks_the_cart_out() -> None:
    """OrderPlaced: one more order placed today, the customer's cart no longer active."""
    assert updates_for(record("orders", "OrderPlaced", order("pending_payment"))) == [
        Update("orders_placed", "count", amount=1),
        Update("active_carts", "cart_close", field=str(CUSTOMER)),
    ]


def test_paid_counts_an_order_and_its_revenue_in_its_currency() -> None:
    """OrderPaid: one more paid order, its total added to today's revenue under the upper-cased currency."""
    assert updates_for(record("orders", "OrderPaid", order("paid"))) == [
        Update("orders_paid", "count", amount=1),
        Update("revenue", "sum", field="EUR", amount=1490),
    ]


def test_a_cart_item_opens_the_customers_cart_and_other_events_change_nothing() -> None:
    """CartItemAdded makes the cart active; OrderShipped moves no metric (only the order status channel)."""
    added = {"customer_id": str(CUSTOMER), "listing_id": str(uuid.uuid4()), "work_id": str(uuid.uuid4()),
             "quantity": 1}  # fmt: skip
    assert updates_for(record("carts", "CartItemAdded", added)) == [
        Update("active_carts", "cart_open", field=str(CUSTOMER))
    ]
    assert updates_for(record("orders", "OrderShipped", order("shipped"))) == []


def test_an_update_travels_as_four_script_arguments() -> None:
    """Counters carry field and amount; a JSON value travels encoded."""
    assert Update("revenue", "sum", field="EUR", amount=5).arguments() == ["revenue", "sum", "EUR", "5"]
    alert = Update("stock_alert:x", "json", value={"stock": 1})
    assert alert.arguments() == ["stock_alert:x", "json", '{"stock": 1}', ""]
