"""Reading what a context published on the outbox, checked against the event schemas the relay enforces."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import Database
from folio.core.outbox import OutboxEvent
from folio.streaming.api import EventSchemas

_SCHEMAS: list[EventSchemas] = []


def _schemas() -> EventSchemas:
    if not _SCHEMAS:
        _SCHEMAS.append(EventSchemas.load())
    return _SCHEMAS[0]


async def published(db: Database, *, topic: str, tenant_id: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
    """``(type, payload)`` of the shop's events on ``topic``, oldest first; each must match its schema."""

    async def work(session: AsyncSession) -> list[tuple[str, dict[str, Any], int]]:
        rows = await session.execute(
            select(OutboxEvent.type, OutboxEvent.payload, OutboxEvent.schema_version)
            .where(OutboxEvent.topic == topic, OutboxEvent.tenant_id == tenant_id)
            .order_by(OutboxEvent.id)
        )
        return [(kind, payload, version) for kind, payload, version in rows]

    events = await db.run(work)
    for kind, payload, version in events:
        _schemas().check(topic, kind, version, payload)  # what the Kafka relay would refuse
    return [(kind, payload) for kind, payload, _ in events]
