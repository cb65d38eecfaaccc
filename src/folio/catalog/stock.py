"""Stock held for orders: taken and given back inside the ordering context's own transaction.

The orders context reserves copies when a customer checks out and returns them when
the order is cancelled, in the same transaction as the order's own change, so a
reservation exists if and only if its order does. Both functions take the caller's
session (already inside ``tenant_scope``), not a ``Database``.

Why a conditional ``UPDATE ... WHERE stock >= wanted`` and not read-then-write: on
PostgreSQL a concurrent checkout of the same listing waits on the row lock and then
re-checks the condition against the committed stock, so no interleaving sells a copy
twice. Listings are taken in id order, so two carts sharing listings cannot deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from folio.catalog.models import Listing
from folio.catalog.outbox import record_change
from folio.catalog.schemas import ListingRead
from folio.core.columns import utcnow
from folio.core.tenancy import tenant_filter

__all__ = ["listings_by_id", "return_stock", "take_stock"]


async def listings_by_id(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ListingRead]:
    """The shop's listings among ``ids``, as they are now (missing ids are absent)."""
    if not ids:
        return {}
    rows = await session.scalars(select(Listing).where(Listing.id.in_(set(ids)), tenant_filter(Listing)))
    return {row.id: ListingRead.model_validate(row) for row in rows}


async def take_stock(
    session: AsyncSession, *, tenant_id: uuid.UUID, wanted: Mapping[uuid.UUID, int]
) -> list[uuid.UUID]:
    """Take ``wanted`` copies per listing; the listings short of stock (nothing taken if any).

    When the answer is not empty some listings may already have been decremented: the
    caller must roll its transaction back (raising does), which returns them.
    """
    short: list[uuid.UUID] = []
    for listing_id in sorted(wanted):
        taken = await session.execute(
            update(Listing)
            .where(Listing.id == listing_id, Listing.stock >= wanted[listing_id], tenant_filter(Listing))
            .values(
                stock=Listing.stock - wanted[listing_id], version=Listing.version + 1, updated_at=utcnow()
            )
            .returning(Listing.id)
        )
        if taken.first() is None:
            short.append(listing_id)
    if not short:
        await _publish(session, tenant_id, wanted)
    return short


async def return_stock(
    session: AsyncSession, *, tenant_id: uuid.UUID, returned: Mapping[uuid.UUID, int]
) -> None:
    """Give back copies an order held (a deleted listing has nothing to return to)."""
    for listing_id in sorted(returned):
        await session.execute(
            update(Listing)
            .where(Listing.id == listing_id, tenant_filter(Listing))
            .values(
                stock=Listing.stock + returned[listing_id], version=Listing.version + 1, updated_at=utcnow()
            )
        )
    await _publish(session, tenant_id, returned)


async def _publish(session: AsyncSession, tenant_id: uuid.UUID, changed: Mapping[uuid.UUID, int]) -> None:
    # The search index shows stock, and the read cache holds listings: both follow the outbox.
    for listing_id in sorted(changed):
        await record_change(session, entity="listing", op="upsert", entity_id=listing_id, tenant_id=tenant_id)
