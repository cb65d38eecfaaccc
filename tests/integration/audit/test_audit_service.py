"""The audit trail on both backends: recorded in the caller's transaction, read back by managers."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.api import actor_of, list_events, list_tenant_events, record_event
from folio.audit.models import AuditEvent, AuditTrailImmutableError
from folio.core.db import Database, read_your_writes_scope
from folio.core.errors import PermissionDeniedError, ValidationFailedError
from folio.core.logging import request_context
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.core.tenancy import tenant_filter, tenant_scope
from tests.support.identity import create_member

pytestmark = pytest.mark.integration

INSUFFICIENT_PRIVILEGE = "42501"


async def _record(db: Database, principal: Principal, *actions: str, entity_type: str = "task") -> None:
    """Record one event per action for ``principal``'s shop, in one unit of work."""

    async def work(session: AsyncSession) -> None:
        kind, actor = actor_of(principal)
        for number, action in enumerate(actions):
            await record_event(
                session,
                tenant_id=principal.tenant_id,
                actor_kind=kind,
                actor_id=actor,
                action=action,
                entity_type=entity_type,
                entity_id=str(number),
                before={"n": number},
                after={"n": number + 1, "by": actor},
            )

    with tenant_scope(principal.tenant_id):
        await db.run(work)


async def test_event_records_actor_states_and_correlation_id(
    any_database: Database, settings: Settings
) -> None:
    """An event keeps its actor, before/after (made JSON-safe) and the request's correlation id."""
    owner = await create_member(any_database)
    with request_context("corr-audit-1"), read_your_writes_scope():
        await _record(any_database, owner, "task.updated")
        page = await list_events(any_database, settings=settings, principal=owner)
    [event] = page.items
    assert (event.actor_kind, event.actor_id) == ("user", owner.user_id)
    assert (event.action, event.entity_type, event.entity_id) == ("task.updated", "task", "0")
    assert event.before == {"n": 0}
    assert event.after == {"n": 1, "by": str(owner.user_id)}
    assert event.correlation_id == "corr-audit-1"
    assert page.next_cursor is None


async def test_keyset_pages_cover_every_event_once_newest_first(
    any_database: Database, settings: Settings
) -> None:
    """Following next_cursor walks every event exactly once, newest first, even as events are added."""
    owner = await create_member(any_database)
    with read_your_writes_scope():
        for batch in range(3):
            await _record(any_database, owner, *(f"thing.step{batch}" for _ in range(4)))
        seen: list[uuid.UUID] = []
        cursor: str | None = None
        first = True
        while first or cursor is not None:
            page = await list_events(any_database, settings=settings, principal=owner, limit=5, cursor=cursor)
            seen.extend(event.id for event in page.items)
            if first:
                # Recorded after the first page: newer than everything paged, so never seen.
                await _record(any_database, owner, "thing.late")
                first = False
            cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 12
    everything = await list_tenant_events(
        any_database, settings=settings, tenant_id=owner.tenant_id, limit=200
    )
    assert [e.id for e in everything.items][1:] == seen
    times = [e.occurred_at for e in everything.items]
    assert times == sorted(times, reverse=True)


async def test_filters_match_exactly(any_database: Database, settings: Settings) -> None:
    """action, entity_type and entity_id each narrow the trail."""
    owner = await create_member(any_database)
    with read_your_writes_scope():
        await _record(any_database, owner, "task.created", "task.updated", "task.updated")
        await _record(any_database, owner, "member.added", entity_type="member")
        updated = await list_events(any_database, settings=settings, principal=owner, action="task.updated")
        members = await list_events(any_database, settings=settings, principal=owner, entity_type="member")
        one = await list_events(
            any_database, settings=settings, principal=owner, entity_type="task", entity_id="0"
        )
    assert {e.action for e in updated.items} == {"task.updated"}
    assert len(updated.items) == 2
    assert [e.action for e in members.items] == ["member.added"]
    assert [e.action for e in one.items] == ["task.created"]


@pytest.mark.parametrize("role", [Role.STAFF, Role.CUSTOMER])
async def test_only_managers_read_the_trail(any_database: Database, role: Role, settings: Settings) -> None:
    """Staff and customers are refused the audit trail (403)."""
    owner = await create_member(any_database)
    member = await create_member(any_database, role=role, tenant_id=owner.tenant_id)
    with pytest.raises(PermissionDeniedError):
        await list_events(any_database, settings=settings, principal=member)


async def test_admin_reads_the_trail(any_database: Database, settings: Settings) -> None:
    """An admin may read the shop's audit trail."""
    owner = await create_member(any_database)
    admin = await create_member(any_database, role=Role.ADMIN, tenant_id=owner.tenant_id)
    with read_your_writes_scope():
        await _record(any_database, owner, "task.created")
        page = await list_events(any_database, settings=settings, principal=admin)
    assert [e.action for e in page.items] == ["task.created"]


async def test_a_shop_never_sees_another_shops_events(any_database: Database, settings: Settings) -> None:
    """Each shop's trail holds only its own events."""
    shop_a = await create_member(any_database)
    shop_b = await create_member(any_database)
    with read_your_writes_scope():
        await _record(any_database, shop_a, "task.created")
        page_b = await list_events(any_database, settings=settings, principal=shop_b)
        page_a = await list_events(any_database, settings=settings, principal=shop_a)
    assert [e.action for e in page_b.items] == []
    assert [e.action for e in page_a.items] == ["task.created"]


@pytest.mark.parametrize("limit", [0, 201])
async def test_limit_out_of_range_is_refused(any_database: Database, limit: int, settings: Settings) -> None:
    """A page size outside 1..200 is a validation problem."""
    owner = await create_member(any_database)
    with pytest.raises(ValidationFailedError):
        await list_events(any_database, settings=settings, principal=owner, limit=limit)


async def test_event_is_rolled_back_with_its_change(any_database: Database, settings: Settings) -> None:
    """An event recorded in a unit of work that fails is not kept."""
    owner = await create_member(any_database)

    async def work(session: AsyncSession) -> None:
        kind, actor = actor_of(owner)
        await record_event(
            session, tenant_id=owner.tenant_id, actor_kind=kind, actor_id=actor, action="x.y", entity_type="x"
        )
        await session.flush()
        raise RuntimeError("the change failed")

    with tenant_scope(owner.tenant_id), pytest.raises(RuntimeError):
        await any_database.run(work)
    with read_your_writes_scope():
        assert (await list_events(any_database, settings=settings, principal=owner)).items == []


async def test_orm_refuses_to_update_or_delete_an_event(any_database: Database) -> None:
    """Loading an event and changing or deleting it fails before any SQL is sent."""
    owner = await create_member(any_database)
    await _record(any_database, owner, "task.created")

    async def change(session: AsyncSession) -> None:
        event = await session.scalar(select(AuditEvent).where(tenant_filter(AuditEvent)))
        assert event is not None
        event.action = "task.forged"

    async def delete(session: AsyncSession) -> None:
        event = await session.scalar(select(AuditEvent).where(tenant_filter(AuditEvent)))
        assert event is not None
        await session.delete(event)

    with tenant_scope(owner.tenant_id):
        with pytest.raises(AuditTrailImmutableError):
            await any_database.run(change)
        with pytest.raises(AuditTrailImmutableError):
            await any_database.run(delete)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'task.forged' WHERE tenant_id = :tenant",
        "DELETE FROM audit_events WHERE tenant_id = :tenant",
    ],
    ids=["update", "delete"],
)
async def test_app_role_may_not_rewrite_history_on_postgres(
    pg_database: Database, statement: str, settings: Settings
) -> None:
    """On PostgreSQL the application role's raw UPDATE or DELETE of audit_events is refused (42501)."""
    owner = await create_member(pg_database)
    await _record(pg_database, owner, "task.created")

    async def work(session: AsyncSession) -> None:
        await session.execute(text(statement), {"tenant": owner.tenant_id})

    with tenant_scope(owner.tenant_id), pytest.raises(DBAPIError) as caught:
        await pg_database.run(work)
    assert getattr(caught.value.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE
    with read_your_writes_scope():
        assert [
            e.action for e in (await list_events(pg_database, settings=settings, principal=owner)).items
        ] == ["task.created"]


async def test_app_role_may_still_insert_and_read_on_postgres(pg_database: Database) -> None:
    """Revoking UPDATE and DELETE left INSERT and SELECT to the application role."""
    owner = await create_member(pg_database)

    async def insert_raw(session: AsyncSession) -> int:
        await _record_in(session, owner)
        return len((await session.scalars(select(AuditEvent).where(tenant_filter(AuditEvent)))).all())

    with tenant_scope(owner.tenant_id):
        assert await pg_database.run(insert_raw) == 1


async def _record_in(session: AsyncSession, principal: Principal) -> None:
    kind, actor = actor_of(principal)
    await record_event(
        session, tenant_id=principal.tenant_id, actor_kind=kind, actor_id=actor, action="a.b", entity_type="a"
    )
    await session.flush()
