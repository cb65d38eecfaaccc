"""The orders context's scheduled work, over every shop: expired holds and stranded checkouts.

Row-level security shows one shop per transaction, so a sweep works inside each shop's
scope, but only in the shops that have work due: one query across shops finds them
first (``find_due_shops``: on PostgreSQL the ``SECURITY DEFINER`` function of migration
``0019_orders_due_shops``, which answers shop ids only), so a pass over thousands of
idle shops opens no transaction in any of them. Both sweeps are safe to run
concurrently with themselves (``skip_locked`` rows, idempotent payment calls); the
worker that schedules them (``folio.orders.consumers``) runs one round per interval
across its replicas.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import and_, bindparam, case, false, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.columns import UtcDateTime, utcnow
from folio.core.db import Database
from folio.orders.checkout import ReturnUrl, close_payment, resume_checkouts
from folio.orders.models import Order
from folio.orders.payments import PaymentProvider
from folio.orders.schemas import OrderStatus
from folio.orders.service import expire_reservations

__all__ = [
    "STRANDED_AFTER",
    "DueShops",
    "SweepReport",
    "expire_all_reservations",
    "find_due_shops",
    "resume_all_checkouts",
]

log = structlog.get_logger(__name__)

STRANDED_AFTER = dt.timedelta(seconds=30)
"""An unpaid order without a payment this long after it was placed was left by a crash (younger ones
may be in the middle of opening theirs)."""

_DUE_SHOPS = text(
    "SELECT shop, expired, stranded FROM orders_shops_with_due_work(:expired_before, :stranded_before)"
).bindparams(
    bindparam("expired_before", type_=UtcDateTime()), bindparam("stranded_before", type_=UtcDateTime())
)
"""The cross-shop query on PostgreSQL (migration 0019_orders_due_shops): shop ids and what each has due."""


@dataclass(frozen=True)
class SweepReport:
    """What one sweep did: the shops it visited (those with work due) and the orders it changed."""

    visited: frozenset[uuid.UUID]
    orders: int

    @property
    def shops(self) -> int:
        """How many shops the sweep visited."""
        return len(self.visited)


@dataclass(frozen=True)
class DueShops:
    """The shops with sweep work due, by kind."""

    expired: frozenset[uuid.UUID]
    """Shops with an unpaid order whose stock hold ended."""
    stranded: frozenset[uuid.UUID]
    """Shops with an unpaid order placed a while ago that has no payment opened."""


async def find_due_shops(
    db: Database, *, expired_before: dt.datetime | None = None, stranded_before: dt.datetime | None = None
) -> DueShops:
    """The shops with sweep work due before the cutoffs given, found in one query across shops.

    ``expired``: an unpaid order whose hold ended before ``expired_before``; ``stranded``:
    one placed before ``stranded_before`` with no payment opened. A cutoff left None asks
    nothing of its kind. Runs outside any tenant scope. On PostgreSQL it calls
    ``orders_shops_with_due_work`` (shop ids only, through row-level security); on SQLite,
    which has none, it reads ``orders``.
    """

    async def work(session: AsyncSession) -> list[tuple[uuid.UUID, bool, bool]]:
        cutoffs = {"expired_before": expired_before, "stranded_before": stranded_before}
        if db.backend == "postgresql":
            return [
                (row.shop, row.expired, row.stranded) for row in await session.execute(_DUE_SHOPS, cutoffs)
            ]
        expired = Order.reserved_until < expired_before if expired_before else false()
        stranded = (
            and_(Order.payment_reference.is_(None), Order.created_at < stranded_before)
            if stranded_before
            else false()
        )
        rows = await session.execute(
            select(
                Order.tenant_id, func.max(case((expired, 1), else_=0)), func.max(case((stranded, 1), else_=0))
            )
            .where(Order.status == OrderStatus.PENDING_PAYMENT, or_(expired, stranded))
            .group_by(Order.tenant_id)
        )
        return [(shop, bool(is_expired), bool(is_stranded)) for shop, is_expired, is_stranded in rows]

    rows = await db.run(work, readonly=True)
    return DueShops(
        expired=frozenset(shop for shop, is_expired, _ in rows if is_expired),
        stranded=frozenset(shop for shop, _, is_stranded in rows if is_stranded),
    )


async def expire_all_reservations(
    db: Database, payments: PaymentProvider | None = None, *, now: dt.datetime | None = None
) -> SweepReport:
    """Cancel every shop's unpaid orders whose stock hold ran out (stock returns).

    With ``payments``, the open checkout of each cancelled order is expired too, so it
    can no longer be paid; a provider that fails there is logged and the sweep goes on
    (a payment that still comes is refunded, ``checkout.settle_payment``).
    """
    moment = now or utcnow()
    shops = (await find_due_shops(db, expired_before=moment)).expired
    changed = 0
    for shop in shops:
        cancelled = await expire_reservations(db, tenant_id=shop, now=moment)
        changed += len(cancelled)
        if payments is None:
            continue
        for order in cancelled:
            try:
                await close_payment(db, payments, tenant_id=shop, order_id=order.id)
            except Exception as exc:  # noqa: BLE001 - the order is cancelled already; a late payment is refunded
                log.warning("checkout.payment_not_closed", order_id=str(order.id), problem=repr(exc))
    return SweepReport(visited=shops, orders=changed)


async def resume_all_checkouts(
    db: Database, payments: PaymentProvider, *, return_url: ReturnUrl
) -> SweepReport:
    """Open the payment of every shop's orders a crash left between placing and paying.

    A shop whose payments fail (its owner revoked Folio's key, say) is logged and
    skipped, so it does not hold up the others; its orders wait for the next sweep.
    """
    shops = (await find_due_shops(db, stranded_before=utcnow() - STRANDED_AFTER)).stranded
    changed = 0
    for shop in shops:
        try:
            resumed = await resume_checkouts(
                db, payments, tenant_id=shop, return_url=return_url, older_than=STRANDED_AFTER
            )
        except Exception as exc:  # noqa: BLE001 - one shop's payments must not stop the sweep of the rest
            log.warning("checkout.resume_failed", tenant_id=str(shop), problem=f"{type(exc).__name__}: {exc}")
            continue
        changed += len(resumed)
    return SweepReport(visited=shops, orders=changed)
