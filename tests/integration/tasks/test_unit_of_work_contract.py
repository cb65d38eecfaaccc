"""The ``TaskUnitOfWork`` contract, run on every implementation: the fake, PostgreSQL and SQLite.

The service's unit tests trust the fake to behave like the real unit of work; this suite
is what earns that trust. Each check goes through the port (``run`` and the
transaction's repository and side effects) and reads the results back through each
implementation's own records: rows, audit events and usage counts.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from folio.audit.api import list_tenant_events
from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.tasks.models import Task
from folio.tasks.repository import Visibility
from folio.tasks.unit_of_work import (
    FakeTaskUnitOfWork,
    SqlAlchemyTaskUnitOfWork,
    TaskTransaction,
    TaskUnitOfWork,
)
from folio.usage.api import Meter, get_tenant_usage
from tests.support.identity import create_member

pytestmark = pytest.mark.integration


class BoomError(Exception):
    """The failure a unit raises after doing its work."""


@dataclass
class Subject:
    """One implementation under contract, with how to read back what it kept."""

    uow: TaskUnitOfWork
    shop: Principal
    audit_events: Callable[[uuid.UUID], Awaitable[int]]
    tasks_counted: Callable[[uuid.UUID], Awaitable[int]]


@pytest.fixture(params=["fake", "pg", "sqlite"])
def implementation(request: pytest.FixtureRequest, settings: Settings) -> tuple[Database, Settings] | None:
    """None for the fake; else a migrated database and the settings that point at it."""
    if request.param == "fake":
        return None
    database: Database = request.getfixturevalue(f"{request.param}_database")
    return database, request.getfixturevalue("migrated_postgres") if request.param == "pg" else settings


@pytest.fixture
async def subject(implementation: tuple[Database, Settings] | None) -> Subject:
    """The fake, or the SQL unit of work on a migrated database, each with one shop's owner."""
    if implementation is None:
        fake = FakeTaskUnitOfWork()
        owner = Principal(tenant_id=uuid.uuid4(), role=Role.OWNER, user_id=uuid.uuid4(), via="token")

        async def fake_events(shop: uuid.UUID) -> int:
            return sum(change.tenant_id == shop for change in fake.changes)

        async def fake_counted(shop: uuid.UUID) -> int:
            return fake.usage[shop]

        return Subject(fake, owner, fake_events, fake_counted)

    database, config = implementation
    owner = await create_member(database)

    async def events(shop: uuid.UUID) -> int:
        trail = await list_tenant_events(database, settings=config, tenant_id=shop, entity_type="task")
        return len(trail.items)

    async def counted(shop: uuid.UUID) -> int:
        return sum(u.quantity for u in await get_tenant_usage(database, tenant_id=shop, meter=Meter.TASKS))

    return Subject(SqlAlchemyTaskUnitOfWork(database, config), owner, events, counted)


def a_task(title: str, principal: Principal) -> Task:
    """A task as the service builds one (generated, not real data)."""
    now = utcnow()
    return Task(
        id=uuid.uuid4(),
        title=title,
        notes="",
        status="todo",
        priority="normal",
        due_date=None,
        tags=[],
        assignee_id=None,
        created_by=principal.actor_id,
        created_at=now,
        updated_at=now,
        version=1,
    )


async def create(tx: TaskTransaction, task: Task, principal: Principal) -> None:
    """What creating a task does in its unit: claim, add, audit, count."""
    await tx.claim_quota()
    await tx.tasks.add(task)
    await tx.record_change_event(
        principal, action="task.created", task_id=task.id, after={"title": task.title}
    )
    await tx.record_usage()


async def stored(subject: Subject, shop: uuid.UUID, task_id: uuid.UUID) -> Task | None:
    """The task as a later unit of ``shop`` reads it."""

    async def read(tx: TaskTransaction) -> Task | None:
        return await tx.tasks.get(task_id, visibility=Visibility.all_tasks())

    return await subject.uow.run(shop, read, readonly=True)


async def test_a_unit_that_returns_keeps_its_row_event_and_count(subject: Subject) -> None:
    """All of it, together."""
    shop, task = subject.shop.tenant_id, a_task("kept", subject.shop)

    async def work(tx: TaskTransaction) -> str:
        await create(tx, task, subject.shop)
        return "done"

    assert await subject.uow.run(shop, work) == "done"
    found = await stored(subject, shop, task.id)
    assert found is not None
    assert found.title == "kept"
    assert (await subject.audit_events(shop), await subject.tasks_counted(shop)) == (1, 1)


async def test_a_unit_that_raises_keeps_nothing(subject: Subject) -> None:
    """Row, audit event and usage count all go with the failure, which propagates unchanged."""
    shop, task = subject.shop.tenant_id, a_task("lost", subject.shop)

    async def work(tx: TaskTransaction) -> None:
        await create(tx, task, subject.shop)
        raise BoomError

    with pytest.raises(BoomError):
        await subject.uow.run(shop, work)
    assert await stored(subject, shop, task.id) is None
    assert (await subject.audit_events(shop), await subject.tasks_counted(shop)) == (0, 0)


async def test_a_unit_sees_its_own_shop_only(subject: Subject) -> None:
    """A task of one shop is not found by a unit of another."""
    shop, task = subject.shop.tenant_id, a_task("mine", subject.shop)

    async def work(tx: TaskTransaction) -> None:
        await create(tx, task, subject.shop)

    await subject.uow.run(shop, work)
    assert await stored(subject, uuid.uuid4(), task.id) is None
    assert await stored(subject, shop, task.id) is not None
