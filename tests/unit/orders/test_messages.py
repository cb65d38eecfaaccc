"""Orders' DTOs survive their protobuf messages both ways, so a gRPC client sees what the service returned."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from folio.core.security import Role
from folio.orders.api import CartLine, CartRead, OrderLineRead, OrderRead, OrderStatus
from folio.orders.messages import cart_message, cart_read, order_message, order_read, status_from_message
from folio.users.client import role_from_message, role_message

pytestmark = pytest.mark.unit

NOW = dt.datetime(2026, 12, 3, 10, 30, 15, 123456, tzinfo=dt.UTC)


def an_order(**changes: object) -> OrderRead:
    """An order with every optional field set (changes override)."""
    line = OrderLineRead(
        listing_id=uuid.uuid4(), work_id=uuid.uuid4(), title="Hamlet", quantity=2,
        unit_price_minor=1250, currency="EUR", line_total_minor=2500,
    )  # fmt: skip
    fields: dict[str, object] = {
        "id": uuid.uuid4(), "tenant_id": uuid.uuid4(), "customer_id": uuid.uuid4(),
        "status": OrderStatus.PENDING_PAYMENT, "currency": "EUR", "total_minor": 2500, "refunded_minor": 0,
        "lines": [line], "payment_url": "https://pay.test/cs_1", "payment_reference": "cs_1",
        "reserved_until": NOW + dt.timedelta(minutes=15), "created_at": NOW, "updated_at": NOW, "version": 3,
    }  # fmt: skip
    return OrderRead.model_validate({**fields, **changes})


@pytest.mark.parametrize("status", list(OrderStatus))
def test_an_order_round_trips_in_every_status(status: OrderStatus) -> None:
    """Every field, microseconds and money included, comes back equal."""
    order = an_order(status=status)
    assert order_read(order_message(order)) == order


def test_absent_optional_fields_stay_absent() -> None:
    """An API key's order (no customer), unpaid and not held: None comes back None, not ''."""
    order = an_order(customer_id=None, payment_url=None, payment_reference=None, reserved_until=None)
    message = order_message(order)

    assert not message.HasField("reserved_until")
    assert order_read(message) == order


def test_a_cart_round_trips_and_an_empty_one_has_no_currency() -> None:
    """Lines and total come back; the currency of an empty cart stays None."""
    line = CartLine(
        listing_id=uuid.uuid4(),
        work_id=uuid.uuid4(),
        title="Emma",
        quantity=1,
        unit_price_minor=800,
        currency="GBP",
    )
    cart = CartRead(lines=[line], total_minor=800, currency="GBP")
    empty = CartRead(lines=[], total_minor=0, currency=None)

    assert cart_read(cart_message(cart)) == cart
    assert cart_read(cart_message(empty)) == empty


def test_enum_values_a_build_does_not_know_read_as_none() -> None:
    """A newer server's status or role is None to this client rather than a crash."""
    assert status_from_message(99) is None  # type: ignore[arg-type]
    assert role_from_message(99) is None  # type: ignore[arg-type]
    assert all(role_from_message(role_message(role)) is role for role in Role)
    assert role_from_message(role_message(None)) is None
