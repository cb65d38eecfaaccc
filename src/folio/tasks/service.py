"""The tasks use cases: every adapter (API v1, API v2, the staff web app) calls these.

Each function takes a ``TaskUnitOfWork`` (``folio.tasks.unit_of_work``; adapters get
the platform's, ``platform.get(TASK_UNIT_OF_WORK)``) and runs one unit of it in
``principal``'s shop, so the change, its audit event and its usage count commit
together or not at all. The service builds no repository and opens no session: the
same rules run on the SQL unit of work and on the in-memory fake.

Rules (the policy functions below; ``docs`` and the tests say the same):

- Staff roles (owner, admin, staff) see and edit all of the shop's tasks. A customer
  sees and edits only tasks they created or are assigned; any other task, like any
  task of another shop, is "not found" (404), never "forbidden": a customer never
  learns that staff tasks exist.
- Only staff may delete tasks (a customer gets 403 for a task they can see) and only
  staff may assign a task to someone other than themselves. The assignee must be a
  member of the shop (422 otherwise).
- Updates may name the ``version`` they were made against (body ``version`` or the
  HTTP ``If-Match``); a task that has moved on answers 409. An update that changes
  nothing writes nothing: no new version, no audit event.
- Creating a task counts against the shop's ``tasks`` quota (403 ``quota-exceeded``).
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

import structlog

from folio.core.columns import utcnow
from folio.core.errors import InvalidParam, NotFoundError, PermissionDeniedError, ValidationFailedError
from folio.core.paging import api_page_size, keyset_slice, page_offset
from folio.core.security import STAFF_ROLES, Principal, require_role
from folio.core.settings import Settings
from folio.core.versioning import check_version
from folio.tasks.cursor import CursorCodec, CursorPosition
from folio.tasks.models import Task
from folio.tasks.repository import TaskQuery, Visibility
from folio.tasks.schemas import (
    TaskCreate,
    TaskFilter,
    TaskPage,
    TaskRead,
    TaskSlice,
    TaskSort,
    TaskUpdate,
)
from folio.tasks.unit_of_work import ENTITY, TaskTransaction, TaskUnitOfWork

__all__ = [
    "check_may_assign",
    "check_may_delete",
    "create_task",
    "cursor_codec",
    "delete_task",
    "get_task",
    "list_tasks",
    "list_tasks_after",
    "query_for",
    "update_task",
    "visibility_for",
]

log = structlog.get_logger(__name__)


# --- policy ---------------------------------------------------------------------------------


def visibility_for(principal: Principal) -> Visibility:
    """What ``principal`` may see: everything for staff, their own tasks for a customer."""
    if principal.is_staff:
        return Visibility.all_tasks()
    return Visibility(everything=False, actor_id=principal.actor_id, user_id=principal.user_id)


def check_may_assign(principal: Principal, assignee_id: uuid.UUID | None) -> None:
    """Raise ``PermissionDeniedError`` unless ``principal`` may make ``assignee_id`` the assignee.

    Anyone may leave a task unassigned or assign themselves; only staff may assign
    someone else. An API key has no self: a customer key may only leave tasks unassigned.
    """
    if assignee_id is None or principal.is_staff:
        return
    if principal.user_id is None or assignee_id != principal.user_id:
        raise PermissionDeniedError(f"the {principal.role.value} role may only assign tasks to themselves")


def check_may_delete(principal: Principal) -> None:
    """Raise ``PermissionDeniedError`` unless ``principal`` may delete tasks (staff only)."""
    require_role(principal, STAFF_ROLES, action="delete tasks")


def _snapshot(task: Task) -> dict[str, Any]:
    """The task as the audit trail records it (the v1 read shape)."""
    return TaskRead.model_validate(task).model_dump(mode="json")


async def _check_assignee_is_member(
    uow: TaskUnitOfWork, principal: Principal, assignee_id: uuid.UUID
) -> None:
    # Before the change's unit, not in it: see TaskUnitOfWork.is_member.
    if not await uow.is_member(principal.tenant_id, assignee_id):
        raise ValidationFailedError(
            "the assignee is not a member of this shop",
            errors=[InvalidParam(name="body.assignee_id", reason="not a member of this shop")],
        )


def cursor_codec(settings: Settings) -> CursorCodec:
    """The codec that signs and checks v2 list cursors with this deployment's secret."""
    return CursorCodec(settings.security.secret_key.get_secret_value())


def _not_found(task_id: uuid.UUID) -> NotFoundError:
    return NotFoundError(f"there is no task {task_id}", entity="task")


# --- commands -------------------------------------------------------------------------------


async def create_task(uow: TaskUnitOfWork, *, principal: Principal, data: TaskCreate) -> TaskRead:
    """Create a task in ``principal``'s shop; audited ``task.created``, counted against the quota.

    Raises:
        PermissionDeniedError: a customer assigned someone else.
        ValidationFailedError: the assignee is not a member of the shop.
        QuotaExceededError: the shop holds as many tasks as its quota allows.
    """
    check_may_assign(principal, data.assignee_id)
    if data.assignee_id is not None:
        await _check_assignee_is_member(uow, principal, data.assignee_id)

    async def work(tx: TaskTransaction) -> TaskRead:
        await tx.claim_quota()
        now = utcnow()
        task = Task(
            id=uuid.uuid4(),
            title=data.title,
            notes=data.notes,
            status=data.status.value,
            priority=data.priority.value,
            due_date=data.due_date,
            tags=list(data.tags),
            assignee_id=data.assignee_id,
            created_by=principal.actor_id,
            created_at=now,
            updated_at=now,
            version=1,
        )
        await tx.tasks.add(task)
        created = TaskRead.model_validate(task)
        await tx.record_change_event(
            principal, action="task.created", task_id=task.id, after=created.model_dump(mode="json")
        )
        await tx.record_usage()
        return created

    created = await uow.run(principal.tenant_id, work)
    log.info("task.created", task_id=str(created.id), tenant_id=str(principal.tenant_id))
    return created


async def update_task(
    uow: TaskUnitOfWork,
    *,
    principal: Principal,
    task_id: uuid.UUID,
    data: TaskUpdate,
    if_version: int | None = None,
) -> TaskRead:
    """Apply the fields ``data`` carries to a visible task; audited ``task.updated`` with before/after.

    ``data.version`` and ``if_version`` (the HTTP ``If-Match``), when given, must both
    equal the task's version. Changing nothing returns the task as it is.

    Raises:
        NotFoundError: no such task in the shop, or not visible to a customer.
        ConflictError: the task's version is not the one expected.
        PermissionDeniedError: a customer assigned someone else.
        ValidationFailedError: the new assignee is not a member of the shop.
    """
    changes = data.changes()
    new_assignee = changes.get("assignee_id")
    if "assignee_id" in changes:
        check_may_assign(principal, new_assignee)
    if new_assignee is not None:
        await _check_assignee_is_member(uow, principal, new_assignee)

    async def work(tx: TaskTransaction) -> TaskRead:
        task = await tx.tasks.get(task_id, visibility=visibility_for(principal), for_update=True)
        if task is None:
            raise _not_found(task_id)
        check_version(ENTITY, task.version, data.version, if_version)
        before = _snapshot(task)
        for name, value in changes.items():
            setattr(task, name, value.value if isinstance(value, StrEnum) else value)
        after = _snapshot(task)
        if after == before:
            return TaskRead.model_validate(task)
        task.version += 1
        task.updated_at = utcnow()
        updated = TaskRead.model_validate(task)
        await tx.record_change_event(
            principal,
            action="task.updated",
            task_id=task.id,
            before=before,
            after=updated.model_dump(mode="json"),
        )
        return updated

    return await uow.run(principal.tenant_id, work)


async def delete_task(
    uow: TaskUnitOfWork, *, principal: Principal, task_id: uuid.UUID, if_version: int | None = None
) -> None:
    """Delete a task (staff only); audited ``task.deleted`` with the task as it was.

    Raises:
        NotFoundError: no such task in the shop, or not visible to a customer (checked
            before the role, so a customer cannot probe for staff tasks).
        PermissionDeniedError: the caller is a customer.
        ConflictError: ``if_version`` is given and the task has moved on.
    """

    async def work(tx: TaskTransaction) -> None:
        task = await tx.tasks.get(task_id, visibility=visibility_for(principal), for_update=True)
        if task is None:
            raise _not_found(task_id)
        check_may_delete(principal)
        check_version(ENTITY, task.version, if_version)
        before = _snapshot(task)
        await tx.tasks.remove(task)
        await tx.record_change_event(principal, action="task.deleted", task_id=task_id, before=before)

    await uow.run(principal.tenant_id, work)


# --- queries --------------------------------------------------------------------------------


async def get_task(uow: TaskUnitOfWork, *, principal: Principal, task_id: uuid.UUID) -> TaskRead:
    """The task, if ``principal`` may see it; ``NotFoundError`` otherwise (whatever the reason)."""

    async def work(tx: TaskTransaction) -> TaskRead:
        task = await tx.tasks.get(task_id, visibility=visibility_for(principal))
        if task is None:
            raise _not_found(task_id)
        return TaskRead.model_validate(task)

    return await uow.run(principal.tenant_id, work, readonly=True)


def query_for(principal: Principal, filters: TaskFilter | None, sort: TaskSort) -> TaskQuery:
    """The resolved query a list runs: ``filters`` (``assignee_id=me`` made a UUID), ``sort``, visibility.

    Two lists with equal queries (and equal positions) answer alike: the page cache keys on it.

    Raises:
        ValidationFailedError: ``assignee_id=me`` from a caller with no user (an API key).
    """
    filters = filters or TaskFilter()
    assignee = filters.assignee_id
    if assignee == "me":
        if principal.user_id is None:
            raise ValidationFailedError(
                "`assignee_id=me` needs a member; an API key is not one",
                errors=[InvalidParam(name="query.assignee_id", reason="`me` is not available to API keys")],
            )
        assignee = principal.user_id
    return TaskQuery(
        visibility=visibility_for(principal),
        sort=sort,
        status=filters.status,
        priority=filters.priority,
        tag=filters.tag,
        assignee_id=assignee if isinstance(assignee, uuid.UUID) else None,
        q=filters.q,
        due_before=filters.due_before,
        due_after=filters.due_after,
    )


async def list_tasks(
    uow: TaskUnitOfWork,
    *,
    settings: Settings,
    principal: Principal,
    filters: TaskFilter | None = None,
    sort: TaskSort = TaskSort.CREATED_AT_DESC,
    page: int = 1,
    per_page: int | None = None,
) -> TaskPage:
    """One numbered page of the tasks ``principal`` may see that match ``filters``.

    ``per_page`` defaults to ``api.default_page_size`` and may not exceed
    ``api.max_page_size`` (422). A page past the last is empty, not an error.
    """
    size = api_page_size(settings, per_page, name="per_page")
    offset = page_offset(page, size)
    query = query_for(principal, filters, sort)

    async def work(tx: TaskTransaction) -> TaskPage:
        found, total = await tx.tasks.find_page(query, offset=offset, limit=size)
        return TaskPage.of(
            [TaskRead.model_validate(task) for task in found], total=total, page=page, per_page=size
        )

    return await uow.run(principal.tenant_id, work, readonly=True)


async def list_tasks_after(
    uow: TaskUnitOfWork,
    *,
    settings: Settings,
    principal: Principal,
    filters: TaskFilter | None = None,
    sort: TaskSort = TaskSort.CREATED_AT_DESC,
    cursor: str | None = None,
    limit: int | None = None,
) -> TaskSlice:
    """Up to ``limit`` tasks after ``cursor`` (from the start without one), in ``sort`` order.

    Keyset pagination: tasks added or removed between calls never make a later page
    skip or repeat a task. ``limit`` follows the page-size settings like ``per_page``.

    Raises:
        InvalidCursorError: the cursor was not issued by this API, was edited, or was
            issued for another sort (400 ``invalid-cursor``).
    """
    size = api_page_size(settings, limit, name="limit")
    codec = cursor_codec(settings)
    after = codec.decode(cursor, sort=sort) if cursor is not None else None
    query = query_for(principal, filters, sort)

    async def work(tx: TaskTransaction) -> TaskSlice:
        rows, next_cursor = keyset_slice(
            await tx.tasks.find_after(query, after=after, limit=size + 1),
            size,
            cursor_of=lambda last: codec.encode(CursorPosition(sort=sort, key=last[1], task_id=last[0].id)),
        )
        return TaskSlice(
            items=[TaskRead.model_validate(task) for task, _ in rows],
            next_cursor=next_cursor,
            has_more=next_cursor is not None,
        )

    return await uow.run(principal.tenant_id, work, readonly=True)
