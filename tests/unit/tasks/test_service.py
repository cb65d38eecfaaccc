"""The tasks service's rules on the in-memory unit of work: visibility, roles, versions, quota, atomicity.

The same rules run against PostgreSQL and SQLite in
``tests/integration/tasks/test_service.py``; here they run in milliseconds, and the
fake lets a side effect fail on purpose to show that a change never commits without
its audit event and usage count.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from folio.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    ValidationFailedError,
)
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.tasks.schemas import TaskCreate, TaskFilter, TaskRead, TaskUpdate
from folio.tasks.service import (
    create_task,
    delete_task,
    get_task,
    list_tasks,
    list_tasks_after,
    update_task,
)
from folio.tasks.unit_of_work import FakeTaskUnitOfWork

pytestmark = pytest.mark.unit

SHOP = uuid.uuid4()
OTHER_SHOP = uuid.uuid4()


@pytest.fixture
def uow() -> FakeTaskUnitOfWork:
    """An empty in-memory unit of work."""
    return FakeTaskUnitOfWork()


def member(uow: FakeTaskUnitOfWork, role: Role = Role.OWNER, shop: uuid.UUID = SHOP) -> Principal:
    """A new member of ``shop`` with ``role``, known to the unit of work's membership check."""
    principal = Principal(tenant_id=shop, role=role, user_id=uuid.uuid4(), via="token")
    assert principal.user_id is not None
    uow.members.add((shop, principal.user_id))
    return principal


def api_key(role: Role = Role.STAFF, shop: uuid.UUID = SHOP) -> Principal:
    """An API key of ``shop`` with ``role``."""
    return Principal(tenant_id=shop, role=role, api_key_id=uuid.uuid4(), via="api_key")


async def new_task(uow: FakeTaskUnitOfWork, principal: Principal, **fields: Any) -> TaskRead:
    """Create a task with ``fields`` (title defaults to a unique one)."""
    data = TaskCreate.model_validate({"title": f"task {uuid.uuid4().hex[:6]}", **fields})
    return await create_task(uow, principal=principal, data=data)


def stored_version(uow: FakeTaskUnitOfWork, task: TaskRead) -> int:
    """The version the unit of work holds for ``task``."""
    return uow.rows[task.id].version


# --- create ------------------------------------------------------------------------------------


async def test_create_stores_audits_and_counts(uow: FakeTaskUnitOfWork) -> None:
    """Creating stores the task in the caller's shop, records ``task.created`` and one use of the meter."""
    owner = member(uow)
    created = await new_task(uow, owner, title=" Reorder ", tags=["Orders", "orders"])
    assert (created.title, created.tags, created.version, created.created_by) == (
        "Reorder",
        ["orders"],
        1,
        owner.user_id,
    )
    assert uow.rows[created.id].tenant_id == SHOP
    (event,) = uow.changes
    assert (event.tenant_id, event.principal, event.action, event.task_id) == (
        SHOP,
        owner,
        "task.created",
        created.id,
    )
    assert (event.before, event.after) == (None, created.model_dump(mode="json"))
    assert uow.usage == {SHOP: 1}


async def test_an_api_key_creates_in_its_own_name(uow: FakeTaskUnitOfWork, settings: Settings) -> None:
    """A key's task records the key as creator; a key has no ``me`` to filter by (422)."""
    key = api_key()
    task = await new_task(uow, key)
    assert task.created_by == key.api_key_id
    assert uow.changes[0].principal == key
    with pytest.raises(ValidationFailedError):
        await list_tasks(uow, settings=settings, principal=key, filters=TaskFilter(assignee_id="me"))


async def test_quota_exceeded_writes_nothing(uow: FakeTaskUnitOfWork) -> None:
    """At the shop's quota, creating is refused with 403 and no row, event or count is added."""
    owner = member(uow)
    uow.quotas[SHOP] = 1
    await new_task(uow, owner)
    with pytest.raises(QuotaExceededError) as caught:
        await new_task(uow, owner)
    assert caught.value.status == 403
    assert (caught.value.extra["limit"], caught.value.extra["in_use"]) == (1, 1)
    assert (len(uow.rows), len(uow.changes), uow.usage[SHOP]) == (1, 1, 1)


# --- visibility --------------------------------------------------------------------------------


async def test_customer_sees_and_edits_only_own_or_assigned(
    uow: FakeTaskUnitOfWork, settings: Settings
) -> None:
    """A customer sees tasks they created or hold; staff tasks are 'not found' (404), in lists too."""
    owner = member(uow)
    customer = member(uow, Role.CUSTOMER)
    staff_task = await new_task(uow, owner, title="staff only")
    assigned = await new_task(uow, owner, title="for the customer", assignee_id=customer.user_id)
    own = await new_task(uow, customer, title="customer's own")

    page = await list_tasks(uow, settings=settings, principal=customer)
    assert ({task.id for task in page.items}, page.total) == ({assigned.id, own.id}, 2)
    after = await list_tasks_after(uow, settings=settings, principal=customer)
    assert {task.id for task in after.items} == {assigned.id, own.id}
    for attempt in (
        get_task(uow, principal=customer, task_id=staff_task.id),
        update_task(uow, principal=customer, task_id=staff_task.id, data=TaskUpdate(title="x")),
        delete_task(uow, principal=customer, task_id=staff_task.id),
    ):
        with pytest.raises(NotFoundError) as caught:
            await attempt
        assert caught.value.status == 404
    assert uow.rows[staff_task.id].title == "staff only"
    edited = await update_task(uow, principal=customer, task_id=assigned.id, data=TaskUpdate(status="done"))
    assert edited.status == "done"
    assert (await list_tasks(uow, settings=settings, principal=owner)).total == 3


async def test_another_shop_gets_not_found(uow: FakeTaskUnitOfWork, settings: Settings) -> None:
    """Another shop's owner can neither read, change, delete nor list the task."""
    task = await new_task(uow, member(uow))
    stranger = member(uow, shop=OTHER_SHOP)
    for attempt in (
        get_task(uow, principal=stranger, task_id=task.id),
        update_task(uow, principal=stranger, task_id=task.id, data=TaskUpdate(title="mine")),
        delete_task(uow, principal=stranger, task_id=task.id),
    ):
        with pytest.raises(NotFoundError):
            await attempt
    assert (await list_tasks(uow, settings=settings, principal=stranger)).total == 0
    assert (stored_version(uow, task), len(uow.changes)) == (1, 1)


# --- roles -------------------------------------------------------------------------------------


async def test_delete_needs_staff(uow: FakeTaskUnitOfWork) -> None:
    """A customer may not delete even their own task (403); staff may, and it is audited with the task."""
    owner = member(uow)
    customer = member(uow, Role.CUSTOMER)
    own = await new_task(uow, customer)
    with pytest.raises(PermissionDeniedError) as caught:
        await delete_task(uow, principal=customer, task_id=own.id)
    assert caught.value.status == 403
    assert own.id in uow.rows
    await delete_task(uow, principal=owner, task_id=own.id)
    assert own.id not in uow.rows
    deleted = uow.changes[-1]
    assert (deleted.action, deleted.after) == ("task.deleted", None)
    assert (deleted.before or {})["id"] == str(own.id)


async def test_only_staff_assign_others(uow: FakeTaskUnitOfWork) -> None:
    """Staff may assign any member; a customer only themselves (403); nobody a non-member (422)."""
    owner = member(uow)
    staff = member(uow, Role.STAFF)
    customer = member(uow, Role.CUSTOMER)
    outsider = member(uow, shop=OTHER_SHOP)

    task = await new_task(uow, owner, assignee_id=staff.user_id)
    assert task.assignee_id == staff.user_id
    mine = await new_task(uow, customer, assignee_id=customer.user_id)
    assert mine.assignee_id == customer.user_id
    with pytest.raises(PermissionDeniedError):
        await new_task(uow, customer, assignee_id=staff.user_id)
    with pytest.raises(PermissionDeniedError):
        await update_task(
            uow, principal=customer, task_id=mine.id, data=TaskUpdate(assignee_id=staff.user_id)
        )
    written = (dict(uow.rows), list(uow.changes), dict(uow.usage))
    for attempt in (
        new_task(uow, owner, assignee_id=outsider.user_id),
        update_task(uow, principal=owner, task_id=task.id, data=TaskUpdate(assignee_id=uuid.uuid4())),
    ):
        with pytest.raises(ValidationFailedError) as caught:
            await attempt
        assert caught.value.status == 422
        assert caught.value.extra["errors"][0].name == "body.assignee_id"
    assert (dict(uow.rows), list(uow.changes), dict(uow.usage)) == written
    assert uow.rows[task.id].assignee_id == staff.user_id


# --- versions ----------------------------------------------------------------------------------


async def test_update_bumps_the_version_and_audits_before_and_after(uow: FakeTaskUnitOfWork) -> None:
    """A real change bumps the version and records the task as it was and as it is."""
    owner = member(uow)
    task = await new_task(uow, owner, title="Audited")
    updated = await update_task(
        uow, principal=owner, task_id=task.id, data=TaskUpdate(title="Audited twice", version=1)
    )
    assert (updated.title, updated.version) == ("Audited twice", 2)
    assert updated.updated_at >= task.updated_at
    event = uow.changes[-1]
    assert event.action == "task.updated"
    assert ((event.before or {})["title"], (event.after or {})["title"]) == ("Audited", "Audited twice")
    assert (event.after or {})["version"] == 2


@pytest.mark.parametrize("via", ["body", "if_match"])
async def test_stale_version_conflicts(uow: FakeTaskUnitOfWork, via: str) -> None:
    """An update made against an old version (body or If-Match) is refused with 409 and changes nothing."""
    owner = member(uow)
    task = await new_task(uow, owner)
    await update_task(uow, principal=owner, task_id=task.id, data=TaskUpdate(title="first"))
    stale: dict[str, Any] = (
        {"data": TaskUpdate(title="second", version=1)}
        if via == "body"
        else {"data": TaskUpdate(title="second"), "if_version": 1}
    )
    with pytest.raises(ConflictError) as caught:
        await update_task(uow, principal=owner, task_id=task.id, **stale)
    assert caught.value.status == 409
    assert caught.value.extra["current_version"] == 2
    assert (uow.rows[task.id].title, stored_version(uow, task), len(uow.changes)) == ("first", 2, 2)


async def test_delete_with_a_stale_version_conflicts(uow: FakeTaskUnitOfWork) -> None:
    """A conditional delete of a task that moved on is refused (409) and deletes nothing."""
    owner = member(uow)
    task = await new_task(uow, owner)
    await update_task(uow, principal=owner, task_id=task.id, data=TaskUpdate(title="moved"))
    with pytest.raises(ConflictError):
        await delete_task(uow, principal=owner, task_id=task.id, if_version=1)
    assert task.id in uow.rows
    await delete_task(uow, principal=owner, task_id=task.id, if_version=2)
    assert task.id not in uow.rows


async def test_changing_nothing_writes_nothing(uow: FakeTaskUnitOfWork) -> None:
    """An update whose values equal the task's keeps its version and timestamp and records no event."""
    owner = member(uow)
    task = await new_task(uow, owner, status="todo", tags=["orders"])
    same = await update_task(
        uow, principal=owner, task_id=task.id, data=TaskUpdate(status="todo", tags=["Orders"])
    )
    assert (same.version, same.updated_at) == (1, task.updated_at)
    assert stored_version(uow, task) == 1
    assert [event.action for event in uow.changes] == ["task.created"]


# --- atomicity ---------------------------------------------------------------------------------


class WriteFailedError(Exception):
    """A side effect's write failed (a stand-in for a database error inside the unit)."""


async def test_create_without_its_usage_count_leaves_no_task(uow: FakeTaskUnitOfWork) -> None:
    """If counting the usage fails, the created task and its audit event are not kept either."""
    owner = member(uow)
    uow.fail_on["record_usage"] = WriteFailedError()
    with pytest.raises(WriteFailedError):
        await new_task(uow, owner)
    assert (uow.rows, uow.changes, uow.usage[SHOP]) == ({}, [], 0)


async def test_update_without_its_audit_event_is_not_kept(uow: FakeTaskUnitOfWork) -> None:
    """If the audit event cannot be recorded, the task keeps its old values and version."""
    owner = member(uow)
    task = await new_task(uow, owner, title="old")
    uow.fail_on["record_change_event"] = WriteFailedError()
    with pytest.raises(WriteFailedError):
        await update_task(uow, principal=owner, task_id=task.id, data=TaskUpdate(title="new"))
    assert (uow.rows[task.id].title, stored_version(uow, task)) == ("old", 1)
    with pytest.raises(WriteFailedError):
        await delete_task(uow, principal=owner, task_id=task.id)
    assert task.id in uow.rows
    assert [event.action for event in uow.changes] == ["task.created"]
