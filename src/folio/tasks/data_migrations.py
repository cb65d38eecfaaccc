"""The tasks context's per-shop data migrations, applied by ``folio tenants migrate``.

Each is a ``folio.core.data_migrations.DataMigration``: its ``apply`` runs inside the
shop's ``tenant_scope`` in one unit of work (which may be re-run, so it touches
nothing outside its session) and returns how many rows it changed. Append new ones
to ``DATA_MIGRATIONS``; never rename or reorder an existing id.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.api import record_event
from folio.core.columns import utcnow
from folio.core.data_migrations import DataMigration
from folio.core.tenancy import tenant_filter
from folio.tasks.models import Task
from folio.tasks.schemas import MAX_TAG_LENGTH, MAX_TAGS, normalise_tags

__all__ = ["DATA_MIGRATIONS", "NORMALISE_TAGS", "clean_legacy_tags"]


def clean_legacy_tags(tags: Any) -> list[str]:
    """Tags as today's rules write them, from whatever an older version stored.

    Non-strings are dropped; the rest are trimmed, lower-cased and de-duplicated (empty
    ones dropped), then held to today's limits: each cut to ``MAX_TAG_LENGTH``
    characters, at most ``MAX_TAGS`` kept, in their original order.
    """
    if not isinstance(tags, list):
        return []
    normalised = normalise_tags(tag for tag in tags if isinstance(tag, str))
    return normalise_tags(tag[:MAX_TAG_LENGTH] for tag in normalised)[:MAX_TAGS]


async def _normalise_tags(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    """Rewrite the shop's tasks whose tags predate normalisation; one audit event if any changed."""
    rows = (await session.execute(select(Task.id, Task.tags).where(tenant_filter(Task)))).all()
    changed = 0
    now = utcnow()
    for task_id, tags in rows:
        cleaned = clean_legacy_tags(tags)
        if cleaned == tags:
            continue
        # A new version, so a client holding the old ETag re-reads before it writes.
        await session.execute(
            update(Task)
            .where(tenant_filter(Task), Task.id == task_id)
            .values(tags=cleaned, version=Task.version + 1, updated_at=now)
        )
        changed += 1
    if changed:
        await record_event(
            session,
            tenant_id=tenant_id,
            actor_kind="system",
            actor_id=None,
            action="tasks.tags_normalised",
            entity_type="data_migration",
            entity_id=NORMALISE_TAGS_ID,
            after={"tasks_changed": changed},
        )
    return changed


NORMALISE_TAGS_ID = "tasks.0001_normalise_tags"

NORMALISE_TAGS = DataMigration(
    id=NORMALISE_TAGS_ID,
    description=(
        "Trim, lower-case and de-duplicate task tags, drop empty ones, and hold them to "
        f"{MAX_TAGS} tags of {MAX_TAG_LENGTH} characters (tags written before normalisation existed)."
    ),
    apply=_normalise_tags,
)

DATA_MIGRATIONS: list[DataMigration] = [NORMALISE_TAGS]
"""The tasks context's data migrations, oldest first."""
