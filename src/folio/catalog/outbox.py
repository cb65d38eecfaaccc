"""The transactional outbox the search index follows (``catalog_changes``).

Every write to a work or a listing adds a row here *in the same transaction*
(``record_change``), so the index can never miss a committed change nor hear of one
that rolled back. Rows hold ids only: the sync reads the current state when it applies
a row, which makes applying a row twice harmless (an upsert of the same document, a
delete of a missing one).

Concurrency story: ``claim_changes`` is a plain read of the oldest pending rows; it
takes no lock that outlives its transaction. Delivery is therefore *at least once*,
and the search sync is expected to run as one process at a time (two would apply the
same rows twice: wasted work, not wrong results, since applying is idempotent). A row
that fails ``MAX_ATTEMPTS`` times stops being claimed (``mark_change_failed`` records
each error) so one poisoned row cannot block the queue; it stays in the table, with
its ``last_error``, for an operator.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from folio.catalog.models import CatalogChange
from folio.catalog.schemas import CatalogChangeRead
from folio.core.columns import utcnow
from folio.core.db import Database

__all__ = [
    "MAX_ATTEMPTS",
    "claim_changes",
    "mark_change_failed",
    "mark_changes_synced",
    "pending_change_count",
    "record_change",
    "record_work_changes",
]

MAX_ATTEMPTS = 5
"""Failed attempts after which a change is no longer claimed (it waits for an operator)."""


def record_change(
    session: AsyncSession,
    *,
    entity: str,
    op: str,
    entity_id: uuid.UUID | None = None,
    tenant_id: uuid.UUID | None = None,
) -> None:
    """Add an outbox row to the caller's transaction (it commits, or not, with the change)."""
    session.add(
        CatalogChange(
            entity=entity,
            entity_id=entity_id,
            tenant_id=tenant_id,
            op=op,
            created_at=utcnow(),
            attempts=0,
        )
    )


async def record_work_changes(
    session: AsyncSession, work_ids: Sequence[uuid.UUID], *, op: str = "upsert"
) -> None:
    """One ``work`` outbox row per id in the caller's transaction (one executemany, for bulk writers)."""
    if not work_ids:
        return
    now = utcnow()
    rows = [
        {
            "entity": "work",
            "entity_id": work_id,
            "tenant_id": None,
            "op": op,
            "created_at": now,
            "attempts": 0,
        }
        for work_id in work_ids
    ]
    # One executemany rather than ORM objects: a bulk import writes a thousand per batch.
    await session.execute(insert(CatalogChange), rows)


def _pending() -> list[ColumnElement[bool]]:
    return [CatalogChange.processed_at.is_(None), CatalogChange.attempts < MAX_ATTEMPTS]


async def claim_changes(db: Database, *, limit: int) -> list[CatalogChangeRead]:
    """Up to ``limit`` pending changes, oldest first (see the module docstring for concurrency)."""

    async def work(session: AsyncSession) -> list[CatalogChangeRead]:
        statement = select(CatalogChange).where(*_pending()).order_by(CatalogChange.id).limit(limit)
        return [CatalogChangeRead.model_validate(row) for row in (await session.execute(statement)).scalars()]

    # Not readonly: a replica could lag behind a change the caller just committed.
    return await db.run(work)


async def mark_changes_synced(db: Database, ids: Sequence[int]) -> None:
    """Record that the changes ``ids`` reached the index (they are never claimed again)."""
    if not ids:
        return

    async def work(session: AsyncSession) -> None:
        await session.execute(
            update(CatalogChange).where(CatalogChange.id.in_(list(ids))).values(processed_at=utcnow())
        )

    await db.run(work)


async def mark_change_failed(db: Database, change_id: int, error: str) -> None:
    """Count a failed attempt at change ``change_id`` and keep ``error`` (it stays pending)."""

    async def work(session: AsyncSession) -> None:
        await session.execute(
            update(CatalogChange)
            .where(CatalogChange.id == change_id)
            .values(attempts=CatalogChange.attempts + 1, last_error=error[:10_000])
        )

    await db.run(work)


async def pending_change_count(db: Database) -> int:
    """How many changes wait to be claimed (failed ``MAX_ATTEMPTS`` times excluded)."""

    async def work(session: AsyncSession) -> int:
        statement = select(func.count()).select_from(CatalogChange).where(*_pending())
        return int((await session.execute(statement)).scalar_one())

    return await db.run(work)
