"""What the orders context publishes on the outbox (topic ``orders``), one versioned shape per type.

Payloads carry the order's id and the facts a consumer needs without reading back
(the pipeline, the live dashboard and the receipts worker read these): status, money,
who. ``schema_version`` is 1 for every type; a change that removes or renames a field
is a new version, published beside the old one until every consumer reads it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from folio.catalog.api import ListingRead
from folio.core.outbox import add_outbox_event
from folio.orders.models import Order
from folio.orders.schemas import OrderStatus

__all__ = [
    "CARTS_TOPIC",
    "CART_ITEM_ADDED",
    "EVENT_TYPES",
    "TOPIC",
    "publish_cart_item_added",
    "publish_order_event",
]

TOPIC = "orders"
"""The outbox topic every orders event is published on."""
CARTS_TOPIC = "carts"
"""The outbox topic of cart events: the first step of the funnel the analyst reads (journey J10)."""
CART_ITEM_ADDED = "CartItemAdded"

EVENT_TYPES: dict[OrderStatus | None, str] = {
    None: "OrderPlaced",
    OrderStatus.PAID: "OrderPaid",
    OrderStatus.PACKED: "OrderPacked",
    OrderStatus.SHIPPED: "OrderShipped",
    OrderStatus.DELIVERED: "OrderDelivered",
    OrderStatus.CANCELLED: "OrderCancelled",
    OrderStatus.REFUNDED: "OrderRefunded",
    OrderStatus.PARTIALLY_REFUNDED: "OrderPartiallyRefunded",
}
"""The event type published when an order reaches each status (``None``: when it is placed)."""


def _payload(order: Order, reason: str | None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "order_id": str(order.id),
        "status": order.status,
        "customer_id": None if order.customer_id is None else str(order.customer_id),
        "currency": order.currency,
        "total_minor": order.total_minor,
        "refunded_minor": order.refunded_minor,
        "lines": [
            {
                "listing_id": str(line.listing_id),
                "work_id": str(line.work_id),
                "quantity": line.quantity,
                "title": line.title,
                "unit_price_minor": line.unit_price_minor,
            }
            for line in order.lines
        ],
        "version": order.version,
    }
    if reason is not None:
        payload["reason"] = reason
    return payload


async def publish_order_event(
    session: AsyncSession, order: Order, *, placed: bool = False, reason: str | None = None
) -> None:
    """Publish the event for ``order``'s new status (or its placing) in the caller's transaction."""
    kind = EVENT_TYPES[None if placed else OrderStatus(order.status)]
    await add_outbox_event(
        session,
        topic=TOPIC,
        key=str(order.id),
        type=kind,
        payload=_payload(order, reason),
        tenant_id=order.tenant_id,
    )


async def publish_cart_item_added(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    customer_id: uuid.UUID,
    listing: ListingRead,
    quantity: int,
) -> None:
    """Publish, in the caller's transaction, that ``customer_id`` put a listing new to their cart in it."""
    await add_outbox_event(
        session,
        topic=CARTS_TOPIC,
        key=str(customer_id),
        type=CART_ITEM_ADDED,
        payload={
            "customer_id": str(customer_id),
            "listing_id": str(listing.id),
            "work_id": str(listing.work_id),
            "quantity": quantity,
        },
        tenant_id=tenant_id,
    )
