"""The tasks service on PostgreSQL (as the app role) and SQLite: CRUD, lists, rules, audit, quota."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest

from folio.audit.api import list_events
from folio.core.db import Database
from folio.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    ValidationFailedError,
)
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.tasks.api import (
    InvalidCursorError,
    SqlAlchemyTaskUnitOfWork,
    TaskCreate,
    TaskFilter,
    TaskRead,
    TaskSort,
    TaskUnitOfWork,
    TaskUpdate,
    create_task,
    delete_task,
    get_task,
    list_tasks,
    list_tasks_after,
    update_task,
)
from folio.usage.api import Meter, get_usage, set_quota_override
from tests.support.identity import create_member
from tests.support.outbox import published

pytestmark = pytest.mark.integration


@pytest.fixture
def small_pages(settings: Settings) -> Settings:
    """Settings with pages of at most 5 tasks (default 3), so paging edges come quickly."""
    api = settings.api.model_copy(update={"default_page_size": 3, "max_page_size": 5})
    return settings.model_copy(update={"api": api})


async def new_task(uow: TaskUnitOfWork, principal: Principal, **fields: Any) -> TaskRead:
    """Create a task with ``fields`` (title defaults to a unique one)."""
    data = TaskCreate.model_validate({"title": f"task {uuid.uuid4().hex[:6]}", **fields})
    return await create_task(uow, principal=principal, data=data)


# --- CRUD --------------------------------------------------------------------------------------


async def test_create_get_update_delete(any_database: Database, uow: TaskUnitOfWork) -> None:
    """A task goes through its whole life: created, read, changed (version bumps), deleted."""
    owner = await create_member(any_database)
    created = await new_task(uow, owner, title=" Reorder ", tags=["Orders", "orders"], due_date="2026-12-01")
    assert (created.title, created.tags, created.version, created.created_by) == (
        "Reorder",
        ["orders"],
        1,
        owner.user_id,
    )
    assert await get_task(uow, principal=owner, task_id=created.id) == created
    updated = await update_task(
        uow,
        principal=owner,
        task_id=created.id,
        data=TaskUpdate.model_validate({"status": "done", "due_date": None, "version": 1}),
    )
    assert (updated.status, updated.due_date, updated.version) == ("done", None, 2)
    assert updated.updated_at >= created.updated_at
    await delete_task(uow, principal=owner, task_id=created.id)
    with pytest.raises(NotFoundError):
        await get_task(uow, principal=owner, task_id=created.id)


async def test_changing_nothing_keeps_the_version(
    any_database: Database, uow: TaskUnitOfWork, settings: Settings
) -> None:
    """A PATCH that changes no value writes nothing: same version, no audit event."""
    owner = await create_member(any_database)
    task = await new_task(uow, owner, status="todo")
    same = await update_task(uow, principal=owner, task_id=task.id, data=TaskUpdate(status="todo"))
    assert same.version == 1
    events = await list_events(any_database, settings=settings, principal=owner, entity_id=str(task.id))
    assert [event.action for event in events.items] == ["task.created"]


async def test_every_change_is_audited(
    any_database: Database, uow: TaskUnitOfWork, settings: Settings
) -> None:
    """Create, update and delete each leave an event with the state before and after."""
    owner = await create_member(any_database)
    task = await new_task(uow, owner, title="Audited")
    await update_task(uow, principal=owner, task_id=task.id, data=TaskUpdate(title="Audited twice"))
    await delete_task(uow, principal=owner, task_id=task.id)
    events = await list_events(any_database, settings=settings, principal=owner, entity_id=str(task.id))
    by_action = {event.action: event for event in events.items}
    assert set(by_action) == {"task.created", "task.updated", "task.deleted"}
    assert by_action["task.created"].before is None
    assert by_action["task.created"].after is not None
    assert by_action["task.created"].after["title"] == "Audited"
    updated = by_action["task.updated"]
    assert (updated.before or {})["title"] == "Audited"
    assert (updated.after or {})["title"] == "Audited twice"
    assert (by_action["task.deleted"].before or {})["version"] == 2
    assert by_action["task.deleted"].after is None
    assert {event.actor_id for event in events.items} == {owner.user_id}


async def test_every_change_is_published_without_the_tasks_text(
    any_database: Database, uow: TaskUnitOfWork
) -> None:
    """TaskCreated, TaskUpdated (naming what changed) and TaskDeleted on the ``tasks`` topic, schema-valid."""
    owner = await create_member(any_database)
    task = await new_task(uow, owner, title="Secret plans", priority="high")
    await update_task(
        uow, principal=owner, task_id=task.id, data=TaskUpdate(title="Other plans", status="done")
    )
    await delete_task(uow, principal=owner, task_id=task.id)

    events = await published(any_database, topic="tasks", tenant_id=owner.tenant_id)

    assert [kind for kind, _ in events] == ["TaskCreated", "TaskUpdated", "TaskDeleted"]
    created, updated, deleted = (payload for _, payload in events)
    assert (created["task_id"], created["priority"], created["version"]) == (str(task.id), "high", 1)
    assert (updated["status"], updated["changed"], updated["version"]) == ("done", ["status", "title"], 2)
    assert deleted["version"] == 2
    assert not any("plans" in str(payload) for _, payload in events)


@pytest.mark.parametrize("via", ["body", "if_match"])
async def test_stale_version_conflicts(any_database: Database, uow: TaskUnitOfWork, via: str) -> None:
    """An update made against an old version (body or If-Match) is refused with 409."""
    owner = await create_member(any_database)
    task = await new_task(uow, owner)
    await update_task(uow, principal=owner, task_id=task.id, data=TaskUpdate(title="first"))
    stale: dict[str, Any] = (
        {"data": TaskUpdate(title="second", version=1)}
        if via == "body"
        else {"data": TaskUpdate(title="second"), "if_version": 1}
    )
    with pytest.raises(ConflictError) as caught:
        await update_task(uow, principal=owner, task_id=task.id, **stale)
    assert caught.value.extra["current_version"] == 2
    assert (await get_task(uow, principal=owner, task_id=task.id)).title == "first"


async def test_delete_with_stale_version_conflicts(any_database: Database, uow: TaskUnitOfWork) -> None:
    """A conditional delete of a task that moved on is refused and deletes nothing."""
    owner = await create_member(any_database)
    task = await new_task(uow, owner)
    await update_task(uow, principal=owner, task_id=task.id, data=TaskUpdate(title="moved"))
    with pytest.raises(ConflictError):
        await delete_task(uow, principal=owner, task_id=task.id, if_version=1)
    await delete_task(uow, principal=owner, task_id=task.id, if_version=2)


# --- roles -------------------------------------------------------------------------------------


async def test_customer_sees_and_edits_only_their_tasks(
    any_database: Database, uow: TaskUnitOfWork, settings: Settings
) -> None:
    """A customer sees tasks they created or hold; staff tasks are 'not found', in lists too."""
    owner = await create_member(any_database)
    customer = await create_member(any_database, role=Role.CUSTOMER, tenant_id=owner.tenant_id)
    staff_task = await new_task(uow, owner, title="staff only")
    assigned = await new_task(uow, owner, title="for the customer", assignee_id=customer.user_id)
    own = await new_task(uow, customer, title="customer's own")

    page = await list_tasks(uow, settings=settings, principal=customer)
    assert {task.id for task in page.items} == {assigned.id, own.id}
    assert page.total == 2
    cursor_page = await list_tasks_after(uow, settings=settings, principal=customer)
    assert {task.id for task in cursor_page.items} == {assigned.id, own.id}
    with pytest.raises(NotFoundError):
        await get_task(uow, principal=customer, task_id=staff_task.id)
    with pytest.raises(NotFoundError):
        await update_task(uow, principal=customer, task_id=staff_task.id, data=TaskUpdate(title="x"))
    with pytest.raises(NotFoundError):
        await delete_task(uow, principal=customer, task_id=staff_task.id)
    edited = await update_task(uow, principal=customer, task_id=assigned.id, data=TaskUpdate(status="done"))
    assert edited.status == "done"
    with pytest.raises(PermissionDeniedError):
        await delete_task(uow, principal=customer, task_id=own.id)
    staff_view = await list_tasks(uow, settings=settings, principal=owner)
    assert staff_view.total == 3


async def test_only_staff_assign_others(any_database: Database, uow: TaskUnitOfWork) -> None:
    """Staff may assign any member; a customer only themselves; a non-member never (422)."""
    owner = await create_member(any_database)
    staff = await create_member(any_database, role=Role.STAFF, tenant_id=owner.tenant_id)
    customer = await create_member(any_database, role=Role.CUSTOMER, tenant_id=owner.tenant_id)
    outsider = await create_member(any_database)

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
    for attempt in (
        new_task(uow, owner, assignee_id=outsider.user_id),
        update_task(uow, principal=owner, task_id=task.id, data=TaskUpdate(assignee_id=uuid.uuid4())),
    ):
        with pytest.raises(ValidationFailedError) as caught:
            await attempt
        assert caught.value.extra["errors"][0].name == "body.assignee_id"


async def test_api_key_principal_creates_in_its_own_name(
    any_database: Database, uow: TaskUnitOfWork, settings: Settings
) -> None:
    """A task an API key creates records the key as creator; the key acts with its role."""
    owner = await create_member(any_database)
    key = Principal(tenant_id=owner.tenant_id, role=Role.STAFF, api_key_id=uuid.uuid4(), via="api_key")
    task = await new_task(uow, key)
    assert task.created_by == key.api_key_id
    await delete_task(uow, principal=key, task_id=task.id)
    with pytest.raises(ValidationFailedError):
        await list_tasks(uow, settings=settings, principal=key, filters=TaskFilter(assignee_id="me"))


async def test_another_shop_gets_not_found(
    any_database: Database, uow: TaskUnitOfWork, settings: Settings
) -> None:
    """Shop B can neither read, change, delete nor list shop A's task."""
    shop_a = await create_member(any_database)
    shop_b = await create_member(any_database)
    task = await new_task(uow, shop_a)
    for attempt in (
        get_task(uow, principal=shop_b, task_id=task.id),
        update_task(uow, principal=shop_b, task_id=task.id, data=TaskUpdate(title="mine")),
        delete_task(uow, principal=shop_b, task_id=task.id),
    ):
        with pytest.raises(NotFoundError):
            await attempt
    assert (await list_tasks(uow, settings=settings, principal=shop_b)).total == 0
    assert (await get_task(uow, principal=shop_a, task_id=task.id)).version == 1


# --- quota -------------------------------------------------------------------------------------


async def test_quota_stops_creation_and_usage_is_recorded(
    any_database: Database, uow: TaskUnitOfWork
) -> None:
    """With a quota of 2 tasks the third is refused (403 quota-exceeded); creations are metered."""
    owner = await create_member(any_database)
    await set_quota_override(any_database, tenant_id=owner.tenant_id, meter=Meter.TASKS, limit=2)
    await new_task(uow, owner)
    await new_task(uow, owner)
    with pytest.raises(QuotaExceededError) as caught:
        await new_task(uow, owner)
    assert caught.value.status == 403
    assert (caught.value.extra["limit"], caught.value.extra["in_use"]) == (2, 2)
    usage = await get_usage(any_database, principal=owner, meter=Meter.TASKS)
    assert sum(row.quantity for row in usage) == 2


# --- lists -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "done"}, {"done"}),
        ({"priority": "urgent"}, {"urgent"}),
        ({"tag": " Orders "}, {"tagged"}),
        ({"q": "100%_"}, {"literal"}),
        ({"q": "MOOMIN"}, {"moomin"}),
        ({"due_before": "2026-12-01"}, {"due"}),
        ({"due_after": "2026-12-01"}, {"due"}),
        ({"assignee_id": "me"}, {"mine"}),
    ],
)
async def test_each_filter(
    any_database: Database,
    uow: TaskUnitOfWork,
    settings: Settings,
    filters: dict[str, Any],
    expected: set[str],
) -> None:
    """Each filter narrows the list to the tasks that match it."""
    owner = await create_member(any_database)
    for fields in (
        {"title": "done", "status": "done"},
        {"title": "urgent", "priority": "urgent"},
        {"title": "tagged", "tags": ["orders"]},
        {"title": "literal", "notes": "save 100%_ today"},
        {"title": "near miss", "notes": "save 100 percent today"},
        {"title": "moomin", "notes": "the Moomins"},
        {"title": "due", "due_date": "2026-12-01"},
        {"title": "mine", "assignee_id": owner.user_id},
    ):
        await new_task(uow, owner, **fields)
    page = await list_tasks(
        uow, settings=settings, principal=owner, filters=TaskFilter.model_validate(filters)
    )
    assert {task.title for task in page.items} == expected


@pytest.mark.parametrize("sort", list(TaskSort))
async def test_each_sort_is_total_and_stable(
    any_database: Database, uow: TaskUnitOfWork, settings: Settings, sort: TaskSort
) -> None:
    """Every sort gives the same order on v1 pages and v2 cursor pages."""
    owner = await create_member(any_database)
    for i in range(7):
        await new_task(
            uow,
            owner,
            title=f"Task {i % 3}",
            priority=["low", "high", "urgent"][i % 3],
            due_date=None if i % 2 else f"2026-12-0{1 + i % 3}",
        )
    paged: list[uuid.UUID] = []
    for page in range(1, 5):
        result = await list_tasks(uow, settings=settings, principal=owner, sort=sort, page=page, per_page=2)
        paged.extend(task.id for task in result.items)
    walked: list[uuid.UUID] = []
    cursor = None
    while True:
        chunk = await list_tasks_after(
            uow, settings=settings, principal=owner, sort=sort, cursor=cursor, limit=3
        )
        walked.extend(task.id for task in chunk.items)
        if not chunk.has_more:
            break
        cursor = chunk.next_cursor
    assert len(paged) == 7
    assert walked == paged


async def test_page_edges(any_database: Database, uow: TaskUnitOfWork, small_pages: Settings) -> None:
    """Default and largest page sizes come from settings; a page past the end is empty."""
    owner = await create_member(any_database)
    empty = await list_tasks(uow, settings=small_pages, principal=owner)
    assert (empty.items, empty.total, empty.pages, empty.per_page) == ([], 0, 0, 3)
    for _ in range(7):
        await new_task(uow, owner)
    first = await list_tasks(uow, settings=small_pages, principal=owner)
    assert (len(first.items), first.total, first.pages) == (3, 7, 3)
    last = await list_tasks(uow, settings=small_pages, principal=owner, page=2, per_page=5)
    assert (len(last.items), last.pages) == (2, 2)
    beyond = await list_tasks(uow, settings=small_pages, principal=owner, page=99)
    assert (beyond.items, beyond.total, beyond.page) == ([], 7, 99)
    for page, per_page in ((1, 6), (1, 0), (0, 3)):
        with pytest.raises(ValidationFailedError):
            await list_tasks(uow, settings=small_pages, principal=owner, page=page, per_page=per_page)
    with pytest.raises(ValidationFailedError):
        await list_tasks_after(uow, settings=small_pages, principal=owner, limit=6)


async def test_cursor_walk_survives_inserts_between_pages(
    any_database: Database, uow: TaskUnitOfWork, settings: Settings
) -> None:
    """Walking v2 pages while tasks are added sees every original task exactly once."""
    owner = await create_member(any_database)
    originals = {(await new_task(uow, owner)).id for _ in range(10)}
    seen: list[uuid.UUID] = []
    cursor = None
    for _ in range(20):
        chunk = await list_tasks_after(uow, settings=settings, principal=owner, cursor=cursor, limit=3)
        seen.extend(task.id for task in chunk.items)
        await new_task(uow, owner, title="added meanwhile")
        if not chunk.has_more:
            assert chunk.next_cursor is None
            break
        cursor = chunk.next_cursor
    assert len(seen) == len(set(seen))
    assert set(seen) == originals


async def test_cursor_walk_by_due_date_survives_inserts(
    any_database: Database, uow: TaskUnitOfWork, settings: Settings
) -> None:
    """Keyset paging on a sort other than creation time also misses and repeats nothing."""
    owner = await create_member(any_database)
    base = dt.date(2026, 12, 1)
    originals = {(await new_task(uow, owner, due_date=base + dt.timedelta(days=i % 4))).id for i in range(9)}
    seen: list[uuid.UUID] = []
    cursor = None
    while True:
        chunk = await list_tasks_after(
            uow, settings=settings, principal=owner, sort=TaskSort.DUE_DATE, cursor=cursor, limit=2
        )
        seen.extend(task.id for task in chunk.items)
        await new_task(uow, owner, due_date=base + dt.timedelta(days=10))
        if not chunk.has_more:
            break
        cursor = chunk.next_cursor
    originals_seen = [task_id for task_id in seen if task_id in originals]
    assert len(originals_seen) == len(set(originals_seen)) == len(originals)


async def test_cursor_must_match_the_sort(
    any_database: Database, uow: TaskUnitOfWork, settings: Settings
) -> None:
    """A cursor from one sort, or a garbled one, is an invalid-cursor error."""
    owner = await create_member(any_database)
    for _ in range(3):
        await new_task(uow, owner)
    chunk = await list_tasks_after(uow, settings=settings, principal=owner, limit=1)
    assert chunk.next_cursor is not None
    with pytest.raises(InvalidCursorError):
        await list_tasks_after(
            uow, settings=settings, principal=owner, cursor=chunk.next_cursor, sort=TaskSort.TITLE
        )
    with pytest.raises(InvalidCursorError):
        await list_tasks_after(uow, settings=settings, principal=owner, cursor=chunk.next_cursor[1:])


async def test_concurrent_creations_never_overshoot_the_quota(
    pg_database: Database, settings: Settings
) -> None:
    """Eight creations racing for the last free slot of a shop's task quota: exactly one gets it."""
    uow = SqlAlchemyTaskUnitOfWork(pg_database, settings)
    owner = await create_member(pg_database)
    await set_quota_override(pg_database, tenant_id=owner.tenant_id, meter=Meter.TASKS, limit=1)

    outcomes = await asyncio.gather(*(new_task(uow, owner) for _ in range(8)), return_exceptions=True)

    created = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, QuotaExceededError)]
    assert (len(created), len(refused)) == (1, 7)
    assert (await list_tasks(uow, settings=settings, principal=owner)).total == 1
