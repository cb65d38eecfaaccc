"""The checkout saga: hold stock, open the payment, mark paid; each failed step compensated.

Steps, each its own transaction or call, each safe to run again:

1. ``place_order`` holds the stock and creates the order (``pending_payment``).
2. ``open_payment`` opens a Checkout Session at the payment provider (idempotency key
   from the order, so a retried step opens one session) and records its reference and
   page on the order (``attach_payment``, which only fills an empty slot).
3. A verified ``checkout.session.completed`` arrives: ``settle_payment`` marks the order
   paid (``confirm_payment``, idempotent).

The saga's progress is the order row itself: an unpaid order without a payment
reference is between steps 1 and 2, and ``resume_checkouts`` finishes step 2 for those
a crash left behind. Compensations: the hold runs out or the customer cancels before
paying, so the order is cancelled, its stock returned and the open session expired
(``close_payment``); the money arrives for an order cancelled meanwhile, so it is
refunded (``settle_payment``); the session expires unpaid, so the order is cancelled
(``abandon_payment``). After the saga, a refund of the payment moves the order
(``refund_payment``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.tenancy import tenant_filter, tenant_scope
from folio.orders.errors import IllegalTransitionError, OrderNotFoundError
from folio.orders.models import Order
from folio.orders.payments import CheckoutOpened, PaymentProvider
from folio.orders.schemas import OrderRead, OrderStatus
from folio.orders.service import confirm_payment, move_by_system, order_read, record_refund

__all__ = [
    "ReturnUrl",
    "abandon_payment",
    "attach_payment",
    "close_payment",
    "open_payment",
    "refund_payment",
    "resume_checkouts",
    "settle_payment",
]

ReturnUrl = Callable[[OrderRead], str]
"""The page a customer comes back to from paying an order (``notifications.order_link``)."""

log = structlog.get_logger(__name__)


async def _order(db: Database, tenant_id: uuid.UUID, order_id: uuid.UUID) -> OrderRead:
    async def work(session: AsyncSession) -> OrderRead:
        order = await session.scalar(select(Order).where(Order.id == order_id, tenant_filter(Order)))
        if order is None:
            raise OrderNotFoundError(f"no order {order_id} in this shop")
        return order_read(order)

    with tenant_scope(tenant_id):
        return await db.run(work)


async def attach_payment(
    db: Database, *, tenant_id: uuid.UUID, order_id: uuid.UUID, opened: CheckoutOpened
) -> OrderRead:
    """Record the payment opened for an unpaid order; an order that already has one keeps it."""

    async def work(session: AsyncSession) -> OrderRead:
        order = await session.scalar(
            select(Order).where(Order.id == order_id, tenant_filter(Order)).with_for_update()
        )
        if order is None:
            raise OrderNotFoundError(f"no order {order_id} in this shop")
        if order.payment_reference is None and order.status == OrderStatus.PENDING_PAYMENT:
            order.payment_reference = opened.reference
            order.payment_url = opened.url
            order.version += 1
            order.updated_at = utcnow()
        return order_read(order)

    with tenant_scope(tenant_id):
        return await db.run(work)


async def open_payment(
    db: Database,
    payments: PaymentProvider,
    *,
    tenant_id: uuid.UUID,
    order_id: uuid.UUID,
    return_url: ReturnUrl,
) -> OrderRead:
    """Step 2: open the order's payment and record it; the order as it is after.

    ``return_url(order)`` is the page the customer comes back to (``?checkout=success``
    or ``?checkout=cancelled`` is appended). An order that is no longer unpaid, or
    already has its payment, is returned as it is.
    """
    order = await _order(db, tenant_id, order_id)
    if order.status != OrderStatus.PENDING_PAYMENT or order.payment_reference is not None:
        return order
    page = return_url(order)
    separator = "&" if "?" in page else "?"
    opened = await payments.open_checkout(
        order,
        success_url=f"{page}{separator}checkout=success",
        cancel_url=f"{page}{separator}checkout=cancelled",
    )
    return await attach_payment(db, tenant_id=tenant_id, order_id=order_id, opened=opened)


async def resume_checkouts(
    db: Database,
    payments: PaymentProvider,
    *,
    tenant_id: uuid.UUID,
    return_url: ReturnUrl,
    older_than: dt.timedelta = dt.timedelta(seconds=30),
    limit: int = 50,
) -> list[OrderRead]:
    """Finish step 2 for the shop's unpaid orders a crash left without a payment; those it opened.

    Only orders placed more than ``older_than`` ago: a younger one may be in the middle
    of its step 2 in the process that placed it.
    """
    moment = utcnow() - older_than

    async def stranded(session: AsyncSession) -> list[uuid.UUID]:
        rows = await session.scalars(
            select(Order.id)
            .where(
                Order.status == OrderStatus.PENDING_PAYMENT,
                Order.payment_reference.is_(None),
                Order.created_at < moment,
                tenant_filter(Order),
            )
            .order_by(Order.created_at)
            .limit(limit)
        )
        return list(rows)

    with tenant_scope(tenant_id):
        ids = await db.run(stranded)
    resumed = []
    for order_id in ids:
        resumed.append(
            await open_payment(db, payments, tenant_id=tenant_id, order_id=order_id, return_url=return_url)
        )
        log.info("checkout.resumed", tenant_id=str(tenant_id), order_id=str(order_id))
    return resumed


async def settle_payment(
    db: Database, payments: PaymentProvider, *, tenant_id: uuid.UUID, order_id: uuid.UUID, reference: str
) -> OrderRead:
    """Step 3: the payment succeeded; mark the order paid, or refund it if the order was cancelled.

    Idempotent: a second event for the same payment changes nothing (and refunds once,
    the provider's idempotency key seeing to it).
    """
    try:
        return await confirm_payment(db, tenant_id=tenant_id, order_id=order_id, payment_reference=reference)
    except IllegalTransitionError:
        order = await _order(db, tenant_id, order_id)
        if order.status != OrderStatus.CANCELLED:
            raise
        # Compensation: the hold ran out (or the customer cancelled) before the money came.
        paid = order.model_copy(update={"payment_reference": reference})
        await payments.refund(paid)
        log.warning("checkout.refunded_late_payment", tenant_id=str(tenant_id), order_id=str(order_id))
        return order


async def abandon_payment(
    db: Database, *, tenant_id: uuid.UUID, order_id: uuid.UUID, reference: str | None = None
) -> OrderRead:
    """The order's checkout ``reference`` expired unpaid: cancel the order (its stock returns); idempotent.

    An order that is no longer unpaid, or is being paid through another checkout than
    ``reference``, is returned as it is.
    """
    order = await _order(db, tenant_id, order_id)
    if order.status != OrderStatus.PENDING_PAYMENT:
        return order
    if reference is not None and order.payment_reference not in (None, reference):
        return order
    return await move_by_system(
        db, tenant_id=tenant_id, order_id=order_id, to=OrderStatus.CANCELLED, reason="payment-expired"
    )


async def close_payment(
    db: Database, payments: PaymentProvider, *, tenant_id: uuid.UUID, order_id: uuid.UUID
) -> None:
    """Compensation for a cancelled unpaid order: expire its open checkout so it cannot be paid."""
    order = await _order(db, tenant_id, order_id)
    if order.status == OrderStatus.CANCELLED and order.payment_reference is not None:
        await payments.expire_checkout(order)


async def refund_payment(
    db: Database,
    payments: PaymentProvider,
    *,
    tenant_id: uuid.UUID,
    payment_intent: str,
    refunded_minor: int,
) -> OrderRead | None:
    """A payment was refunded, ``refunded_minor`` in all so far: move the order it paid; idempotent.

    The order is the one whose checkout the payment was made in (``find_checkout``):
    refunded in full, it becomes ``refunded``, in part ``partially_refunded``. None when
    the payment paid no order (a payment the shop took through the API). An order
    cancelled before its payment came was refunded by the saga itself
    (``settle_payment``) and stays cancelled.

    Raises:
        ValidationFailedError: more than the order's total.
        IllegalTransitionError: the order was never paid, or is in the post.
    """
    found = await payments.find_checkout(tenant_id, payment_intent)
    if found is None:
        return None
    try:
        order = await _order(db, tenant_id, found.order_id)
    except OrderNotFoundError:
        return None
    if order.payment_reference != found.reference:
        return None
    if order.status == OrderStatus.CANCELLED:
        return order
    return await record_refund(db, tenant_id=tenant_id, order_id=order.id, refunded_minor=refunded_minor)
