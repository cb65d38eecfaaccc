"""The mails orders send their customers as an order moves: one per status worth telling.

Queued on the mail outbox (``folio.mail.api.queue_mail``) in the caller's session, so a
worker that records the message it handled in the same transaction (the inbox) sends
each mail once, however often the broker redelivers the event.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.settings import Settings
from folio.mail.api import queue_mail
from folio.orders.schemas import OrderRead, OrderStatus

__all__ = ["CUSTOMER_MAILS", "order_link", "queue_order_mail"]

CUSTOMER_MAILS: dict[OrderStatus, tuple[str, str]] = {
    OrderStatus.PAID: (
        "We have your order",
        "Thank you: your payment arrived and the shop is packing your books.",
    ),
    OrderStatus.SHIPPED: ("Your books are on their way", "The shop has sent your order."),
    OrderStatus.DELIVERED: ("Your books have arrived", "Your order was delivered. Happy reading!"),
    OrderStatus.CANCELLED: ("Your order was cancelled", "Your order was cancelled and nothing was charged."),
    OrderStatus.REFUNDED: ("Your order was refunded", "The shop refunded your order in full."),
    OrderStatus.PARTIALLY_REFUNDED: (
        "Part of your order was refunded",
        "The shop refunded part of your order.",
    ),
}
"""The subject and first paragraph of the mail each status sends; other statuses send none."""


def order_link(settings: Settings, order: OrderRead) -> str:
    """The web app's page of ``order`` for its customer."""
    return f"{settings.public_url.rstrip('/')}/app/shop/orders/{order.id}"


def _money(minor: int, currency: str) -> str:
    return f"{minor // 100}.{minor % 100:02d} {currency}"


async def queue_order_mail(
    session: AsyncSession, *, settings: Settings, email: str, order: OrderRead
) -> bool:
    """Queue the mail ``order``'s status sends to ``email``; whether there was one to send."""
    mail = CUSTOMER_MAILS.get(order.status)
    if mail is None:
        return False
    subject, opening = mail
    lines = "\n".join(
        f"  {line.quantity} x {line.title}  {_money(line.line_total_minor, line.currency)}"
        for line in order.lines
    )
    refunded = f"Refunded: {_money(order.refunded_minor, order.currency)}\n" if order.refunded_minor else ""
    await queue_mail(
        session,
        recipient=email,
        subject=f"{subject} (order {str(order.id)[:8]})",
        body=(
            f"{opening}\n\n{lines}\n"
            f"Total: {_money(order.total_minor, order.currency)}\n{refunded}\n"
            f"Follow your order here: {order_link(settings, order)}\n"
        ),
        kind=f"order_{order.status.value}",
    )
    return True
