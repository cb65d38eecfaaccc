"""The platform curator's use cases: publish and unpublish works, find and remove junk.

The curator is the operator at the ``folio catalog works`` CLI (Folio has no platform
role above the shops' owners): these functions take no principal and check no role,
like every operator function.

Key contracts:

- ``set_work_published`` shares a work with every shop (or takes it back); the
  ``work`` outbox row it writes re-indexes the work, whose search document then
  carries the new visibility.
- ``find_junk_works`` names works by honest, checkable criteria (``JUNK_REASONS``):
  a text field holding a character the text rule refuses (``folio.core.text``), mojibake
  that cannot be repaired, or a title with no letter or digit at all. It changes nothing.
- ``remove_works`` deletes works no shop lists (a listed work is kept and reported:
  the listing's foreign key refuses the delete, whichever shop holds it), each with a
  ``work``/``delete`` outbox row so the search index drops it.
- Every change is audited as a ``system`` event in the owning shop's trail when the
  work has an owner (the shop sees what the platform did to its work) and logged
  (``catalog.work_published``, ``catalog.work_removed``) with the operator's name.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.api import record_event
from folio.catalog.importer import UnrepairableTextError, repair_text
from folio.catalog.models import Work
from folio.catalog.outbox import record_change
from folio.catalog.repository import WorkRepository
from folio.catalog.schemas import JunkWork, WorkRead
from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.errors import NotFoundError
from folio.core.tenancy import tenant_scope
from folio.core.text import find_invalid_character

__all__ = ["JUNK_REASONS", "RemovalReport", "find_junk_works", "remove_works", "set_work_published"]

log = structlog.get_logger(__name__)

JUNK_REASONS: dict[str, str] = {
    "control-characters": "a text field holds a control character, U+FFFD or NUL (the text rule refuses it)",
    "unrepairable-mojibake": "the title, an author or the publisher is mojibake that cannot be restored",
    "no-letters": "the title holds no letter or digit at all",
}
"""Why a work is called junk, by code."""


async def _audit_for_owner(
    session: AsyncSession,
    work: Work,
    action: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    if work.owner_tenant_id is None:
        return
    await record_event(
        session,
        tenant_id=work.owner_tenant_id,
        actor_kind="system",
        actor_id=None,
        action=action,
        entity_type="work",
        entity_id=str(work.id),
        before=before,
        after=after,
    )


async def _owner_of(db: Database, work_id: uuid.UUID) -> tuple[bool, uuid.UUID | None]:
    async def work(session: AsyncSession) -> tuple[bool, uuid.UUID | None]:
        record = await WorkRepository(session).get(work_id)
        return (False, None) if record is None else (True, record.owner_tenant_id)

    return await db.run(work, readonly=True)


async def set_work_published(db: Database, *, work_id: uuid.UUID, published: bool, operator: str) -> WorkRead:
    """Share ``work_id`` with every shop (``published``) or take it back; outboxed and audited.

    Publishing or unpublishing a work already in that state changes nothing.

    Raises:
        NotFoundError: there is no such work.
    """
    exists, owner = await _owner_of(db, work_id)
    if not exists:
        raise NotFoundError(f"there is no work {work_id}", entity="work")

    async def work(session: AsyncSession) -> WorkRead:
        record = await WorkRepository(session).get(work_id, for_update=True)
        if record is None:
            raise NotFoundError(f"there is no work {work_id}", entity="work")
        if record.published == published:
            return WorkRead.model_validate(record)
        before = WorkRead.model_validate(record).model_dump(mode="json")
        record.published = published
        record.version += 1
        record.updated_at = utcnow()
        changed = WorkRead.model_validate(record)
        await record_change(session, entity="work", op="upsert", entity_id=work_id)
        action = "work.published" if published else "work.unpublished"
        await _audit_for_owner(session, record, action, before=before, after=changed.model_dump(mode="json"))
        return changed

    # The owner's shop is in scope so its audit trail (under row-level security) takes the event.
    if owner is not None:
        with tenant_scope(owner):
            changed = await db.run(work)
    else:
        changed = await db.run(work)
    log.info("catalog.work_published", work_id=str(work_id), published=published, operator=operator)
    return changed


def junk_reasons(work: WorkRead) -> list[str]:
    """The ``JUNK_REASONS`` codes that apply to ``work`` (empty: not junk)."""
    reasons: list[str] = []
    one_line = [work.title, *work.authors, *work.subjects, work.publisher or "", work.language or ""]
    if any(find_invalid_character(text) for text in one_line) or find_invalid_character(
        work.description or "", multiline=True
    ):
        reasons.append("control-characters")
    try:
        for text in [work.title, *work.authors, work.publisher or ""]:
            repair_text(text)
    except UnrepairableTextError:
        reasons.append("unrepairable-mojibake")
    if not any(character.isalnum() for character in work.title):
        reasons.append("no-letters")
    return reasons


async def find_junk_works(
    db: Database, *, source: str | None = None, batch_size: int = 5000, limit: int | None = None
) -> list[JunkWork]:
    """Works that meet a ``JUNK_REASONS`` criterion (of ``source`` only, if given), by id; changes nothing."""
    found: list[JunkWork] = []
    last: uuid.UUID | None = None
    while limit is None or len(found) < limit:

        async def batch_of(session: AsyncSession, after: uuid.UUID | None = last) -> list[WorkRead]:
            return [
                WorkRead.model_validate(w)
                for w in await WorkRepository(session).after(after, limit=batch_size)
            ]

        batch = await db.run(batch_of, readonly=True)
        if not batch:
            break
        for work in batch:
            if source is not None and work.source != source:
                continue
            reasons = junk_reasons(work)
            if reasons:
                found.append(
                    JunkWork(
                        id=work.id,
                        title=work.title,
                        source=work.source,
                        published=work.published,
                        owner_tenant_id=work.owner_tenant_id,
                        created_at=work.created_at,
                        reasons=reasons,
                    )
                )
        last = batch[-1].id
    return found[:limit] if limit is not None else found


@dataclass
class RemovalReport:
    """What ``remove_works`` did: the works removed, and those kept because a shop lists them."""

    removed: list[uuid.UUID] = field(default_factory=list)
    listed: list[uuid.UUID] = field(default_factory=list)
    missing: list[uuid.UUID] = field(default_factory=list)


async def remove_works(db: Database, ids: Sequence[uuid.UUID], *, operator: str) -> RemovalReport:
    """Delete each work of ``ids`` that no shop lists, with its outbox ``delete`` row; audited, logged.

    One transaction per work, so a listed work (kept) never holds back the others.
    """
    report = RemovalReport()
    for work_id in ids:
        exists, owner = await _owner_of(db, work_id)
        if not exists:
            report.missing.append(work_id)
            continue

        async def work(session: AsyncSession, work_id: uuid.UUID = work_id) -> bool:
            record = await WorkRepository(session).get(work_id, for_update=True)
            if record is None:
                return False
            before = WorkRead.model_validate(record).model_dump(mode="json")
            try:
                # A savepoint: the listings' foreign key refuses the delete when any shop
                # lists the work (row-level security does not hide rows from that check).
                async with session.begin_nested():
                    await session.execute(delete(Work).where(Work.id == work_id))
            except IntegrityError:
                return False
            await record_change(session, entity="work", op="delete", entity_id=work_id)
            await _audit_for_owner(session, record, "work.removed", before=before)
            return True

        if owner is not None:
            with tenant_scope(owner):
                removed = await db.run(work)
        else:
            removed = await db.run(work)
        (report.removed if removed else report.listed).append(work_id)
        if removed:
            log.warning("catalog.work_removed", work_id=str(work_id), operator=operator)
    return report
