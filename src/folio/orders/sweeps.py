"""The orders context's scheduled work, over every shop: expired holds and stranded checkouts.

Row-level security shows one shop per transaction, so a sweep walks the shops
(identity's list) and works inside each one's scope. Both sweeps are safe to run
concurrently with themselves (``skip_locked`` rows, idempotent payment calls); the
worker that schedules them holds a lock so that only one replica does the work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from folio.core.db import Database
from folio.identity.api import list_tenants
from folio.orders.checkout import resume_checkouts
from folio.orders.payments import PaymentProvider
from folio.orders.service import expire_reservations

__all__ = ["SweepReport", "expire_all_reservations", "resume_all_checkouts"]


@dataclass(frozen=True)
class SweepReport:
    """What one sweep did: shops visited and orders changed."""

    shops: int
    orders: int


async def expire_all_reservations(db: Database, *, now: dt.datetime | None = None) -> SweepReport:
    """Cancel every shop's unpaid orders whose stock hold ran out (stock returns)."""
    shops = await list_tenants(db)
    changed = 0
    for shop in shops:
        changed += len(await expire_reservations(db, tenant_id=shop.id, now=now))
    return SweepReport(shops=len(shops), orders=changed)


async def resume_all_checkouts(db: Database, payments: PaymentProvider, *, return_url: str) -> SweepReport:
    """Open the payment of every shop's orders a crash left between placing and paying."""
    shops = await list_tenants(db)
    changed = 0
    for shop in shops:
        changed += len(await resume_checkouts(db, payments, tenant_id=shop.id, return_url=return_url))
    return SweepReport(shops=len(shops), orders=changed)
