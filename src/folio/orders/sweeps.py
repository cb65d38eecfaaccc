"""The orders context's scheduled work, over every shop: expired holds and stranded checkouts.

Row-level security shows one shop per transaction, so a sweep walks the shops
(identity's list) and works inside each one's scope. Both sweeps are safe to run
concurrently with themselves (``skip_locked`` rows, idempotent payment calls); the
worker that schedules them (``folio.orders.consumers``) holds the lock ``orders:sweeps``
so that only one replica does the work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import structlog

from folio.core.db import Database
from folio.identity.api import list_tenants
from folio.orders.checkout import ReturnUrl, close_payment, resume_checkouts
from folio.orders.payments import PaymentProvider
from folio.orders.service import expire_reservations

__all__ = ["SweepReport", "expire_all_reservations", "resume_all_checkouts"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SweepReport:
    """What one sweep did: shops visited and orders changed."""

    shops: int
    orders: int


async def expire_all_reservations(
    db: Database, payments: PaymentProvider | None = None, *, now: dt.datetime | None = None
) -> SweepReport:
    """Cancel every shop's unpaid orders whose stock hold ran out (stock returns).

    With ``payments``, the open checkout of each cancelled order is expired too, so it
    can no longer be paid; a provider that fails there is logged and the sweep goes on
    (a payment that still comes is refunded, ``checkout.settle_payment``).
    """
    shops = await list_tenants(db)
    changed = 0
    for shop in shops:
        cancelled = await expire_reservations(db, tenant_id=shop.id, now=now)
        changed += len(cancelled)
        if payments is None:
            continue
        for order in cancelled:
            try:
                await close_payment(db, payments, tenant_id=shop.id, order_id=order.id)
            except Exception as exc:  # noqa: BLE001 - the order is cancelled already; a late payment is refunded
                log.warning("checkout.payment_not_closed", order_id=str(order.id), problem=repr(exc))
    return SweepReport(shops=len(shops), orders=changed)


async def resume_all_checkouts(
    db: Database, payments: PaymentProvider, *, return_url: ReturnUrl
) -> SweepReport:
    """Open the payment of every shop's orders a crash left between placing and paying.

    A shop whose payments fail (its owner revoked Folio's key, say) is logged and
    skipped, so it does not hold up the others; its orders wait for the next sweep.
    """
    shops = await list_tenants(db)
    changed = 0
    for shop in shops:
        try:
            changed += len(await resume_checkouts(db, payments, tenant_id=shop.id, return_url=return_url))
        except Exception as exc:  # noqa: BLE001 - one shop's payments must not stop the sweep of the rest
            log.warning(
                "checkout.resume_failed", tenant_id=str(shop.id), problem=f"{type(exc).__name__}: {exc}"
            )
    return SweepReport(shops=len(shops), orders=changed)
