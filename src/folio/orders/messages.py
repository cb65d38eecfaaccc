"""Orders' DTOs to and from their protobuf messages (``folio.orders.v1``), both ways, losslessly.

The server answers with ``order_message(OrderRead)``; the client hands ``order_read``
of the answer to the rest of Folio, so both ends speak the contract's DTOs. Money
stays integer minor units; ids are UUID strings; times are ``Timestamp``s (UTC).
"""

from __future__ import annotations

import datetime as dt
import uuid

from google.protobuf.timestamp_pb2 import Timestamp

from folio.orders.schemas import CartLine, CartRead, OrderLineRead, OrderRead, OrderStatus
from folio.orders.v1 import orders_pb2

__all__ = [
    "cart_message",
    "cart_read",
    "order_message",
    "order_read",
    "status_from_message",
    "status_message",
]

_PREFIX = "ORDER_STATUS_"


def status_message(status: OrderStatus | None) -> orders_pb2.OrderStatus.ValueType:
    """The proto enum value of ``status`` (UNSPECIFIED for None)."""
    return (
        orders_pb2.OrderStatus.Value(_PREFIX + status.name)
        if status is not None
        else orders_pb2.ORDER_STATUS_UNSPECIFIED
    )


def status_from_message(value: orders_pb2.OrderStatus.ValueType) -> OrderStatus | None:
    """The ``OrderStatus`` of a proto enum value; None for UNSPECIFIED (or one this build does not know)."""
    if value == orders_pb2.ORDER_STATUS_UNSPECIFIED or value not in orders_pb2.OrderStatus.values():
        return None
    return OrderStatus[orders_pb2.OrderStatus.Name(value).removeprefix(_PREFIX)]


def _timestamp(moment: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _moment(stamp: Timestamp) -> dt.datetime:
    return stamp.ToDatetime(tzinfo=dt.UTC)


def cart_message(cart: CartRead) -> orders_pb2.Cart:
    """The ``Cart`` message of ``cart``."""
    message = orders_pb2.Cart(
        lines=[
            orders_pb2.CartLine(
                listing_id=str(line.listing_id),
                work_id=str(line.work_id),
                title=line.title,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                currency=line.currency,
            )
            for line in cart.lines
        ],
        total_minor=cart.total_minor,
    )
    if cart.currency is not None:
        message.currency = cart.currency
    return message


def cart_read(message: orders_pb2.Cart) -> CartRead:
    """The ``CartRead`` a ``Cart`` message carries."""
    return CartRead(
        lines=[
            CartLine(
                listing_id=uuid.UUID(line.listing_id),
                work_id=uuid.UUID(line.work_id),
                title=line.title,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                currency=line.currency,
            )
            for line in message.lines
        ],
        total_minor=message.total_minor,
        currency=message.currency if message.HasField("currency") else None,
    )


def order_message(order: OrderRead) -> orders_pb2.Order:
    """The ``Order`` message of ``order``."""
    message = orders_pb2.Order(
        id=str(order.id),
        tenant_id=str(order.tenant_id),
        status=status_message(order.status),
        currency=order.currency,
        total_minor=order.total_minor,
        refunded_minor=order.refunded_minor,
        lines=[
            orders_pb2.OrderLine(
                listing_id=str(line.listing_id),
                work_id=str(line.work_id),
                title=line.title,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                currency=line.currency,
                line_total_minor=line.line_total_minor,
            )
            for line in order.lines
        ],
        created_at=_timestamp(order.created_at),
        updated_at=_timestamp(order.updated_at),
        version=order.version,
    )
    if order.customer_id is not None:
        message.customer_id = str(order.customer_id)
    if order.payment_url is not None:
        message.payment_url = order.payment_url
    if order.payment_reference is not None:
        message.payment_reference = order.payment_reference
    if order.reserved_until is not None:
        message.reserved_until.CopyFrom(_timestamp(order.reserved_until))
    return message


def order_read(message: orders_pb2.Order) -> OrderRead:
    """The ``OrderRead`` an ``Order`` message carries."""
    status = status_from_message(message.status)
    if status is None:
        raise ValueError(f"order {message.id} has a status this build does not know ({message.status})")
    return OrderRead(
        id=uuid.UUID(message.id),
        tenant_id=uuid.UUID(message.tenant_id),
        customer_id=uuid.UUID(message.customer_id) if message.HasField("customer_id") else None,
        status=status,
        currency=message.currency,
        total_minor=message.total_minor,
        refunded_minor=message.refunded_minor,
        lines=[
            OrderLineRead(
                listing_id=uuid.UUID(line.listing_id),
                work_id=uuid.UUID(line.work_id),
                title=line.title,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                currency=line.currency,
                line_total_minor=line.line_total_minor,
            )
            for line in message.lines
        ],
        payment_url=message.payment_url if message.HasField("payment_url") else None,
        payment_reference=message.payment_reference if message.HasField("payment_reference") else None,
        reserved_until=_moment(message.reserved_until) if message.HasField("reserved_until") else None,
        created_at=_moment(message.created_at),
        updated_at=_moment(message.updated_at),
        version=message.version,
    )
