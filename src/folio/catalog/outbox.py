"""The catalogue's events on the transactional outbox (``folio.core.outbox``, topic ``catalog``).

Every write to a work or a listing publishes an event *in the same transaction*
(``record_change``), so a consumer can never miss a committed change nor hear of one
that rolled back. Events hold ids only: a consumer reads the current state when it
applies one, which makes applying an event twice harmless (an upsert of the same
document, a delete of a missing one).

The events (schema version 1; ``key`` is the entity's id):

========================  ===================================  ======================
type                      when                                 ``tenant_id``
========================  ===================================  ======================
``work.changed``          a work was created or edited         None
``work.deleted``          the curator removed a work           None
``listing.changed``       a listing was created or edited      the listing's shop
``listing.deleted``       a listing was deleted                the listing's shop
``catalog.bulk_imported`` a bulk import changed many works     None (key None)
========================  ===================================  ======================

Each payload is ``{"entity", "op", "entity_id", "tenant_id"}`` (ids as strings), the
fields ``CatalogChangeRead`` gives a consumer back: ``entity`` is ``work``, ``listing``
or ``catalog``; ``op`` is ``upsert``, ``delete`` or ``reindex``.

Consumers (the search sync) read the topic through ``claim_changes``,
``mark_changes_synced``, ``mark_change_failed`` and ``pending_change_count``: the
general outbox's functions for one named consumer, with the events decoded into
``CatalogChangeRead`` (with the writing span's ``traceparent``, which the outbox row keeps,
so the sync continues the writer's trace). Delivery is at least once, retries and poisoning
follow the consumer's ``RetryPolicy`` (see ``folio.core.outbox``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from folio.catalog.schemas import CatalogChangeRead
from folio.core.db import Database
from folio.core.outbox import (
    ClaimedEvent,
    EventDraft,
    RetryPolicy,
    ack_events,
    add_outbox_events,
    claim_events,
    count_pending,
    fail_event,
)

__all__ = [
    "EVENT_TYPES",
    "TOPIC",
    "claim_changes",
    "mark_change_failed",
    "mark_changes_synced",
    "pending_change_count",
    "record_change",
    "record_work_changes",
]

TOPIC = "catalog"
"""The outbox topic every catalogue event is published on."""

EVENT_TYPES: dict[tuple[str, str], str] = {
    ("work", "upsert"): "work.changed",
    ("work", "delete"): "work.deleted",
    ("listing", "upsert"): "listing.changed",
    ("listing", "delete"): "listing.deleted",
    ("catalog", "reindex"): "catalog.bulk_imported",
}
"""``(entity, op)`` -> the event type; the only changes the catalogue publishes."""

SCHEMA_VERSION = 1
"""The version of the payload ``_draft`` writes and ``_change`` reads."""


def _draft(*, entity: str, op: str, entity_id: uuid.UUID | None, tenant_id: uuid.UUID | None) -> EventDraft:
    kind = EVENT_TYPES.get((entity, op))
    if kind is None:
        raise ValueError(f"the catalogue publishes no {entity}/{op} change")
    return EventDraft(
        topic=TOPIC,
        key=None if entity_id is None else str(entity_id),
        type=kind,
        payload={
            "entity": entity,
            "op": op,
            "entity_id": None if entity_id is None else str(entity_id),
            "tenant_id": None if tenant_id is None else str(tenant_id),
        },
        schema_version=SCHEMA_VERSION,
        tenant_id=tenant_id,
    )


async def record_change(
    session: AsyncSession,
    *,
    entity: str,
    op: str,
    entity_id: uuid.UUID | None = None,
    tenant_id: uuid.UUID | None = None,
) -> None:
    """Publish one change in the caller's transaction (it commits, or not, with the change).

    ``(entity, op)`` must be a key of ``EVENT_TYPES`` (``ValueError`` otherwise).
    """
    await add_outbox_events(session, [_draft(entity=entity, op=op, entity_id=entity_id, tenant_id=tenant_id)])


async def record_work_changes(
    session: AsyncSession, work_ids: Sequence[uuid.UUID], *, op: str = "upsert"
) -> None:
    """One ``work`` change per id in the caller's transaction (two statements, for bulk writers)."""
    drafts = [_draft(entity="work", op=op, entity_id=work_id, tenant_id=None) for work_id in work_ids]
    await add_outbox_events(session, drafts)


def _uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(str(value))


def _change(event: ClaimedEvent) -> CatalogChangeRead:
    payload = event.payload
    return CatalogChangeRead(
        id=event.id,
        entity=str(payload.get("entity")),
        entity_id=_uuid(payload.get("entity_id")),
        tenant_id=event.tenant_id,
        op=str(payload.get("op")),
        created_at=event.created_at,
        attempts=event.attempts,
        traceparent=event.traceparent,
    )


async def claim_changes(db: Database, *, consumer: str, limit: int) -> list[CatalogChangeRead]:
    """Up to ``limit`` of ``consumer``'s due catalogue changes, oldest first (``claim_events``)."""
    return [_change(event) for event in await claim_events(db, consumer=consumer, limit=limit, topic=TOPIC)]


async def mark_changes_synced(db: Database, ids: Sequence[int], *, consumer: str) -> None:
    """Record that ``consumer`` applied the changes ``ids`` (they are never claimed by it again)."""
    await ack_events(db, consumer=consumer, event_ids=ids)


async def mark_change_failed(
    db: Database, change_id: int, error: str, *, consumer: str, retry: RetryPolicy
) -> bool:
    """Count ``consumer``'s failed attempt at ``change_id`` and keep ``error``; True once it is poisoned."""
    return await fail_event(db, consumer=consumer, event_id=change_id, error=error, retry=retry)


async def pending_change_count(db: Database, *, consumer: str) -> int:
    """How many catalogue changes wait for ``consumer`` (poisoned ones excluded)."""
    return await count_pending(db, consumer=consumer, topic=TOPIC)
