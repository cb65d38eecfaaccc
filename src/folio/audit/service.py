"""Audit use cases: record a state change in the caller's transaction, read the trail back.

Audit rows are append-only. Nothing in Folio updates or deletes one: the ORM refuses
to flush a change to a loaded event (``folio.audit.models``), and on PostgreSQL the
application role holds only SELECT and INSERT on ``audit_events`` (revision
``0007_audit_append_only``), so not even a raw statement can rewrite history.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.models import AuditEvent
from folio.audit.schemas import ActorKind, AuditEventRead, AuditPage
from folio.core.db import Database
from folio.core.errors import InvalidCursorError, InvalidParam, ValidationFailedError
from folio.core.logging import correlation_id
from folio.core.security import MANAGER_ROLES, Principal, require_role
from folio.core.tenancy import tenant_filter, tenant_scope

__all__ = [
    "MAX_PAGE_SIZE",
    "actor_of",
    "decode_cursor",
    "encode_cursor",
    "list_events",
    "list_tenant_events",
    "record_event",
]

MAX_PAGE_SIZE = 200
"""The most events one page may hold."""


def actor_of(principal: Principal) -> tuple[ActorKind, uuid.UUID]:
    """The ``(actor_kind, actor_id)`` an event records for ``principal``: its user, else its API key."""
    if principal.user_id is not None:
        return "user", principal.user_id
    return "api_key", principal.actor_id


async def record_event(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    actor_kind: ActorKind,
    actor_id: uuid.UUID | None,
    action: str,
    entity_type: str,
    entity_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an audit event to ``session``: it commits with the caller's change, or not at all.

    Precondition: ``session``'s transaction runs inside ``tenant_scope(tenant_id)`` (on
    PostgreSQL row-level security refuses an event for another shop). ``action`` reads
    ``<entity>.<past tense>`` (``task.updated``); ``before`` and ``after`` are the
    entity's state around the change, made JSON-safe here (UUIDs, datetimes, enums).
    The correlation id comes from the logging context, so the event names its request.
    """
    session.add(
        AuditEvent(
            tenant_id=tenant_id,
            actor_kind=actor_kind,
            actor_id=actor_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=_json_document(before),
            after=_json_document(after),
            correlation_id=correlation_id(),
        )
    )


def _json_document(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    document: dict[str, Any] = to_jsonable_python(value)
    return document


async def list_events(
    db: Database,
    *,
    principal: Principal,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> AuditPage:
    """A page of the caller's shop's audit trail, newest first; managers (owner, admin) only.

    Raises ``PermissionDeniedError`` for other roles; otherwise as ``list_tenant_events``.
    """
    require_role(principal, MANAGER_ROLES, action="read the audit trail")
    return await list_tenant_events(
        db,
        tenant_id=principal.tenant_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        limit=limit,
        cursor=cursor,
    )


async def list_tenant_events(
    db: Database,
    *,
    tenant_id: uuid.UUID,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> AuditPage:
    """A page of one shop's audit trail, newest first, with no role check (operators, the CLI).

    Pages by keyset on ``(occurred_at, id)``: ``cursor`` is the ``next_cursor`` of the
    previous page, so events recorded meanwhile never shift or repeat a page. Filters
    match exactly. Raises ``ValidationFailedError`` for a limit outside 1..200 and
    ``InvalidCursorError`` for a malformed cursor.
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationFailedError(
            f"limit must be between 1 and {MAX_PAGE_SIZE}",
            errors=[InvalidParam(name="query.limit", reason=f"must be between 1 and {MAX_PAGE_SIZE}")],
        )
    after = decode_cursor(cursor) if cursor is not None else None

    async def work(session: AsyncSession) -> AuditPage:
        query = select(AuditEvent).where(tenant_filter(AuditEvent))
        if action is not None:
            query = query.where(AuditEvent.action == action)
        if entity_type is not None:
            query = query.where(AuditEvent.entity_type == entity_type)
        if entity_id is not None:
            query = query.where(AuditEvent.entity_id == entity_id)
        if after is not None:
            at, last_id = after
            query = query.where(
                or_(
                    AuditEvent.occurred_at < at,
                    and_(AuditEvent.occurred_at == at, AuditEvent.id < last_id),
                )
            )
        query = query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(limit + 1)
        rows = list((await session.scalars(query)).all())
        items = [AuditEventRead.model_validate(row) for row in rows[:limit]]
        next_cursor = encode_cursor(items[-1].occurred_at, items[-1].id) if len(rows) > limit else None
        return AuditPage(items=items, next_cursor=next_cursor)

    with tenant_scope(tenant_id):
        return await db.run(work, readonly=True)


def encode_cursor(occurred_at: dt.datetime, event_id: uuid.UUID) -> str:
    """The opaque cursor that resumes after the event at ``(occurred_at, event_id)``."""
    raw = f"{occurred_at.astimezone(dt.UTC).isoformat()}|{event_id.hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    """The position ``encode_cursor`` wrote; ``InvalidCursorError`` (400) when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at_text, _, id_text = raw.partition("|")
        at = dt.datetime.fromisoformat(at_text)
        event_id = uuid.UUID(hex=id_text)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursorError("the cursor is not one this endpoint returned") from exc
    if at.tzinfo is None:
        raise InvalidCursorError("the cursor is not one this endpoint returned")
    return at, event_id
