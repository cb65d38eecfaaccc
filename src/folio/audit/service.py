"""Audit use cases: record a state change in the caller's transaction, read the trail back.

Audit rows are append-only. Nothing in Folio updates or deletes one: the ORM refuses
to flush a change to a loaded event (``folio.audit.models``), and on PostgreSQL the
application role holds only SELECT and INSERT on ``audit_events`` (revision
``0007_audit_append_only``), so not even a raw statement can rewrite history.

The trail pages newest first by keyset on ``(occurred_at, id)``, with a signed cursor
(``folio.core.cursors.KeysetCursorCodec``, purpose ``audit.events``) like every other
keyset list: a cursor that was edited, forged, or made before cursors were signed is a
400 ``invalid-cursor``.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.models import AuditEvent
from folio.audit.schemas import ActorKind, AuditEventRead, AuditPage
from folio.core.cursors import KeysetCursorCodec
from folio.core.db import Database
from folio.core.logging import correlation_id
from folio.core.paging import keyset_after, keyset_slice, page_size
from folio.core.security import MANAGER_ROLES, Principal, require_role
from folio.core.settings import Settings
from folio.core.tenancy import tenant_filter, tenant_scope

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "actor_of",
    "cursor_codec",
    "list_events",
    "list_tenant_events",
    "record_change_event",
    "record_event",
]

MAX_PAGE_SIZE = 200
"""The most events one page may hold."""

DEFAULT_PAGE_SIZE = 50
"""Events per page when none is asked for."""


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


async def record_change_event(
    session: AsyncSession,
    principal: Principal,
    *,
    action: str,
    entity_type: str,
    entity_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Record that ``principal`` (its user, else its API key) did ``action`` to an entity of its shop.

    ``record_event`` for the common case: the actor is the caller (``actor_of``), the
    shop is the caller's and ``entity_id`` is written as ``str(entity_id)``. Same
    precondition: ``session`` runs inside ``tenant_scope(principal.tenant_id)``.
    """
    actor_kind, actor_id = actor_of(principal)
    await record_event(
        session,
        tenant_id=principal.tenant_id,
        actor_kind=actor_kind,
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before,
        after=after,
    )


def _json_document(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    document: dict[str, Any] = to_jsonable_python(value)
    return document


async def list_events(
    db: Database,
    *,
    settings: Settings,
    principal: Principal,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> AuditPage:
    """A page of the caller's shop's audit trail, newest first; managers (owner, admin) only.

    Raises ``PermissionDeniedError`` for other roles; otherwise as ``list_tenant_events``.
    """
    require_role(principal, MANAGER_ROLES, action="read the audit trail")
    return await list_tenant_events(
        db,
        settings=settings,
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
    settings: Settings,
    tenant_id: uuid.UUID,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> AuditPage:
    """A page of one shop's audit trail, newest first, with no role check (operators, the CLI).

    Pages by keyset on ``(occurred_at, id)``: ``cursor`` is the ``next_cursor`` of the
    previous page, so events recorded meanwhile never shift or repeat a page. Filters
    match exactly. Raises ``ValidationFailedError`` for a limit outside 1..200 and
    ``InvalidCursorError`` for a cursor this trail did not issue (signed with
    ``settings``' secret).
    """
    size = page_size(limit, name="limit", default=DEFAULT_PAGE_SIZE, largest=MAX_PAGE_SIZE)
    codec = cursor_codec(settings)
    after = codec.decode(cursor) if cursor is not None else None

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
                keyset_after(AuditEvent.occurred_at, AuditEvent.id, at, last_id, descending=True)
            )
        query = query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(size + 1)
        rows, next_cursor = keyset_slice(
            (await session.scalars(query)).all(),
            size,
            cursor_of=lambda last: codec.encode(last.occurred_at, last.id),
        )
        return AuditPage(items=[AuditEventRead.model_validate(row) for row in rows], next_cursor=next_cursor)

    with tenant_scope(tenant_id):
        return await db.run(work, readonly=True)


def cursor_codec(settings: Settings) -> KeysetCursorCodec:
    """The codec that signs and checks the trail's cursors with this deployment's secret."""
    return KeysetCursorCodec(settings.security.secret_key.get_secret_value(), purpose="audit.events")
