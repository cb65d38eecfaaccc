"""The orders context's DTOs and its state machine.

Money is an integer count of the currency's minor units (cents): never a float. An
order has one currency, the one of its lines; a cart mixing currencies cannot be
checked out (``MixedCurrenciesError``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from folio.core.paging import CursorPage

__all__ = [
    "FINAL_STATUSES",
    "MAX_CART_LINES",
    "MAX_QUANTITY",
    "CartLine",
    "CartRead",
    "OrderLineRead",
    "OrderPage",
    "OrderRead",
    "OrderStatus",
    "allowed_next",
]

MAX_QUANTITY = 99
"""Most copies of one listing a cart line may ask for."""

MAX_CART_LINES = 50
"""Most distinct listings one cart (and so one order) may hold."""


class OrderStatus(StrEnum):
    """Where an order stands; ``allowed_next`` says where it may go."""

    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


_REFUNDS = frozenset({OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED})

_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    # Unpaid: paid by a verified payment, or cancelled (by the customer, the shop, a
    # failed payment or an expired reservation); stock is released on cancellation.
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    # Paid money leaves only as a refund: a paid order is refunded, never "cancelled".
    OrderStatus.PAID: frozenset({OrderStatus.PACKED}) | _REFUNDS,
    OrderStatus.PACKED: frozenset({OrderStatus.SHIPPED}) | _REFUNDS,
    # In the post: a refund waits for it to arrive (or come back).
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: _REFUNDS,
    OrderStatus.PARTIALLY_REFUNDED: _REFUNDS,
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}

FINAL_STATUSES = frozenset(status for status, nexts in _TRANSITIONS.items() if not nexts)
"""Statuses nothing follows: watching an order ends there."""


def allowed_next(status: OrderStatus) -> frozenset[OrderStatus]:
    """The statuses an order in ``status`` may move to."""
    return _TRANSITIONS[status]


class CartLine(BaseModel):
    """One listing in a cart, priced from the listing as it is now."""

    model_config = ConfigDict(frozen=True)

    listing_id: uuid.UUID
    work_id: uuid.UUID
    title: str
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    unit_price_minor: int = Field(ge=0, description="The listing's price now, in minor units.")
    currency: str = Field(min_length=3, max_length=3)


class CartRead(BaseModel):
    """A customer's cart in one shop; ``currency`` is None while it is empty or mixed."""

    model_config = ConfigDict(frozen=True)

    lines: list[CartLine]
    total_minor: int
    currency: str | None


class OrderLineRead(BaseModel):
    """One line of an order, its price frozen at checkout."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    listing_id: uuid.UUID
    work_id: uuid.UUID
    title: str
    quantity: int
    unit_price_minor: int
    currency: str
    line_total_minor: int


class OrderRead(BaseModel):
    """An order as its customer and the shop's staff see it."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    tenant_id: uuid.UUID
    customer_id: uuid.UUID | None = Field(description="The member who ordered; None when an API key did.")
    status: OrderStatus
    currency: str
    total_minor: int
    refunded_minor: int
    lines: list[OrderLineRead]
    payment_url: str | None = Field(description="Where the customer pays, once the payment is open.")
    payment_reference: str | None = Field(description="The payment provider's checkout session id.")
    reserved_until: dt.datetime | None = Field(description="Stock is held until then while unpaid.")
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


class OrderPage(CursorPage[OrderRead]):
    """One page of a shop's (or a customer's) orders, newest first."""
