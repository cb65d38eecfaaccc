"""The orders context's worker side: its customers' mails, and the sweeps on a schedule.

- ``orders.notifications``: a work queue bound to the orders events worth a mail
  (``OrderPaid``, ``OrderShipped``, ``OrderDelivered``, ``OrderCancelled``,
  ``OrderRefunded``, ``OrderPartiallyRefunded``). Its handler is *transactional*: it
  queues the mail (``notifications.queue_order_mail``, the mail outbox) in the
  worker's unit of work, with the message's inbox row, so each event sends its mail
  once however often the broker delivers it. The customer's address comes from
  identity; an order without a customer (an API key's, the shop's own) sends none.
- ``orders:sweeps``: once every ``orders.sweep_interval_s`` across the worker replicas
  (``folio.messaging.jobs``: the lock of that name, and its ``:last-run`` claim), cancels
  the unpaid orders whose hold ran out (stock back, their open checkout expired) and
  opens the payment of checkouts a crash left without one, in the shops that have such
  orders only (``folio.orders.sweeps``).
"""

from __future__ import annotations

import uuid
from functools import partial

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.errors import NotFoundError
from folio.core.platform import Platform
from folio.identity.api import get_user
from folio.messaging.api import HandlerRegistry, Inbound, PermanentError, WorkQueue
from folio.orders.events import EVENT_TYPES, TOPIC
from folio.orders.notifications import CUSTOMER_MAILS, order_link, queue_order_mail
from folio.orders.payments import PAYMENT_PROVIDER
from folio.orders.schemas import OrderStatus
from folio.orders.service import get_order_in
from folio.orders.sweeps import expire_all_reservations, resume_all_checkouts

__all__ = ["MAILED_EVENTS", "NOTIFICATIONS", "SWEEPS", "register"]

MAILED_EVENTS: dict[str, OrderStatus] = {EVENT_TYPES[status]: status for status in CUSTOMER_MAILS}
"""The orders events that send their customer a mail, and the status each one tells of."""

NOTIFICATIONS = WorkQueue(
    "orders.notifications", bindings=tuple(f"{TOPIC}.{kind}" for kind in sorted(MAILED_EVENTS))
)
"""The orders events worth telling the customer, one mail each."""

SWEEPS = "orders:sweeps"
"""The periodic job's name, and its round lock's (the worker runs it once per interval across replicas)."""


class OrderEventBody(BaseModel):
    """The fields of an orders event's payload (schema version 1) the mail needs."""

    order_id: uuid.UUID
    customer_id: uuid.UUID | None
    refunded_minor: int


async def mail_customer(platform: Platform, message: Inbound, session: AsyncSession) -> None:
    """Queue the mail the event's status sends the order's customer, in the inbox's unit of work.

    Raises ``PermanentError`` for an event this queue does not take or one without its
    shop; a payload that does not parse is a ``ValidationError`` (permanent too).
    """
    status = MAILED_EVENTS.get(message.type or "")
    if status is None or message.tenant_id is None:
        raise PermanentError(f"not an orders event with a mail and a shop: {message.type!r}")
    event = OrderEventBody.model_validate(message.body)
    if event.customer_id is None:
        return  # the shop's own order (an API key's): no customer to tell
    order = await get_order_in(session, event.order_id)
    if order is None:
        raise PermanentError(f"no order {event.order_id} in shop {message.tenant_id}")
    try:
        customer = await get_user(platform.database, event.customer_id)
    except NotFoundError:
        return  # the customer's account is gone: nobody to write to
    # The order as the event saw it: it may have moved on since, and each mail tells its own step.
    told = order.model_copy(update={"status": status, "refunded_minor": event.refunded_minor})
    await queue_order_mail(session, settings=platform.settings, email=customer.email, order=told)


async def sweep(platform: Platform) -> None:
    """One round of the sweeps: expired holds first (their stock back), then stranded checkouts."""
    payments = platform.find(PAYMENT_PROVIDER)
    await expire_all_reservations(platform.database, payments)
    if payments is not None:
        await resume_all_checkouts(
            platform.database, payments, return_url=partial(order_link, platform.settings)
        )


def register(registry: HandlerRegistry, platform: Platform) -> None:
    """Register the customers' mails and the scheduled sweeps on ``registry`` (the worker's)."""
    registry.transactional(NOTIFICATIONS, partial(mail_customer, platform))
    registry.every(platform.settings.orders.sweep_interval_s, SWEEPS, partial(sweep, platform))
