"""``FakeTaskUnitOfWork`` keeps the unit-of-work contract, so the service's unit tests may trust it."""

from __future__ import annotations

import uuid

import pytest

from folio.core.errors import QuotaExceededError
from folio.core.security import Principal, Role
from folio.core.tenancy import current_tenant
from folio.tasks.repository import Visibility
from folio.tasks.unit_of_work import FakeTaskUnitOfWork, RecordedChange, TaskTransaction
from tests.unit.tasks.builders import make_task

pytestmark = pytest.mark.unit

SHOP = uuid.uuid4()
OWNER = Principal(tenant_id=SHOP, role=Role.OWNER, user_id=uuid.uuid4(), via="token")


class BoomError(Exception):
    """What a unit raises to fail on purpose."""


async def test_a_unit_that_returns_keeps_rows_events_and_usage() -> None:
    """Rows, audit events and usage counts of a successful unit are all kept."""
    uow = FakeTaskUnitOfWork()
    task = make_task()

    async def work(tx: TaskTransaction) -> str:
        await tx.tasks.add(task)
        await tx.record_change_event(OWNER, action="task.created", task_id=task.id, after={"title": "A"})
        await tx.record_usage()
        return "done"

    assert await uow.run(SHOP, work) == "done"
    assert list(uow.rows) == [task.id]
    assert uow.rows[task.id].tenant_id == SHOP
    assert uow.changes == [
        RecordedChange(
            tenant_id=SHOP,
            principal=OWNER,
            action="task.created",
            task_id=task.id,
            before=None,
            after={"title": "A"},
        )
    ]
    assert uow.usage[SHOP] == 1


async def test_a_unit_that_raises_keeps_nothing() -> None:
    """A failure after writing leaves the rows, events and usage exactly as they were."""
    uow = FakeTaskUnitOfWork()
    kept = make_task(title="before")
    await uow.run(SHOP, lambda tx: tx.tasks.add(kept))

    async def work(tx: TaskTransaction) -> None:
        task = await tx.tasks.get(kept.id, visibility=Visibility.all_tasks())
        assert task is not None
        task.title = "edited in the failed unit"
        await tx.tasks.add(make_task())
        await tx.record_change_event(OWNER, action="task.updated", task_id=kept.id)
        await tx.record_usage()
        raise BoomError

    with pytest.raises(BoomError):
        await uow.run(SHOP, work)
    assert list(uow.rows) == [kept.id]
    assert uow.rows[kept.id].title == "before"
    assert uow.changes == []
    assert uow.usage[SHOP] == 0


async def test_a_readonly_unit_keeps_nothing() -> None:
    """Like a replica read, a readonly unit commits nothing even when it returns."""
    uow = FakeTaskUnitOfWork()

    async def work(tx: TaskTransaction) -> None:
        await tx.tasks.add(make_task())
        await tx.record_usage()

    await uow.run(SHOP, work, readonly=True)
    assert (uow.rows, uow.usage[SHOP]) == ({}, 0)


async def test_work_runs_in_the_shops_scope() -> None:
    """``work`` runs inside ``tenant_scope`` of the unit's shop, and the scope ends with it."""

    async def work(tx: TaskTransaction) -> uuid.UUID | None:
        return current_tenant()

    assert await FakeTaskUnitOfWork().run(SHOP, work) == SHOP
    assert current_tenant() is None


async def test_a_failing_side_effect_raises_its_exception() -> None:
    """``fail_on`` makes the named side effect raise instead of recording."""
    uow = FakeTaskUnitOfWork()
    uow.fail_on["record_change_event"] = BoomError()

    async def work(tx: TaskTransaction) -> None:
        await tx.record_usage()
        await tx.record_change_event(OWNER, action="task.created", task_id=uuid.uuid4())

    with pytest.raises(BoomError):
        await uow.run(SHOP, work)
    assert (uow.changes, uow.usage[SHOP]) == ([], 0)


async def test_the_quota_counts_the_shops_tasks_only() -> None:
    """A shop's quota is full when its own tasks fill it; other shops' tasks do not count."""
    other = uuid.uuid4()
    uow = FakeTaskUnitOfWork(quotas={SHOP: 1})
    await uow.run(other, lambda tx: tx.tasks.add(make_task()))
    await uow.run(SHOP, lambda tx: tx.claim_quota())
    await uow.run(SHOP, lambda tx: tx.tasks.add(make_task()))
    with pytest.raises(QuotaExceededError) as caught:
        await uow.run(SHOP, lambda tx: tx.claim_quota())
    assert (caught.value.extra["limit"], caught.value.extra["in_use"]) == (1, 1)
    await uow.run(other, lambda tx: tx.claim_quota())


async def test_membership_is_per_shop() -> None:
    """``is_member`` answers for the (shop, user) pairs given, and no other shop."""
    user = uuid.uuid4()
    uow = FakeTaskUnitOfWork(members=[(SHOP, user)])
    assert await uow.is_member(SHOP, user)
    assert not await uow.is_member(uuid.uuid4(), user)
    assert not await uow.is_member(SHOP, uuid.uuid4())
