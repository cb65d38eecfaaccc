"""The tasks context's HTTP adapter: ``/api/v1/tasks`` and ``/api/v2/tasks``.

Thin by design: each handler turns HTTP into a service call and the result back into
HTTP (status, ``ETag``, ``Location``). Rules live in ``folio.tasks.service``; errors
are ``FolioError``s the gateway renders as problem+json. The gateway mounts the
routers under ``/api/v1`` and ``/api/v2`` with its rate-limit dependency.

What v2 changed (v1 stays served, unchanged, and is not deprecated yet):

- lists page with an opaque keyset ``cursor`` and ``limit``, answering
  ``{data, next_cursor, has_more}``, instead of ``page``/``per_page`` with ``total``;
- the field ``notes`` is called ``description``, in requests and responses.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response, status
from pydantic import TypeAdapter

from folio.core.security import Principal
from folio.core.text import CleanText
from folio.httpkit import (
    ETAG_HEADER,
    CurrentPrincipal,
    IfMatch,
    SettingsDep,
    expected_version,
    platform_of,
    problem_responses,
)
from folio.tasks import service
from folio.tasks.page_cache import TASK_PAGES
from folio.tasks.schemas import (
    TaskCreate,
    TaskCreateV2,
    TaskCursorPage,
    TaskFilter,
    TaskPage,
    TaskRead,
    TaskReadV2,
    TaskSort,
    TaskUpdate,
    TaskUpdateV2,
)
from folio.tasks.unit_of_work import TASK_UNIT_OF_WORK, TaskUnitOfWork

__all__ = ["OPENAPI_TAGS", "V1_TAG", "V2_TAG", "v1_router", "v2_router"]

V1_TAG = "tasks v1"
V2_TAG = "tasks v2"

OPENAPI_TAGS: list[dict[str, Any]] = [
    {
        "name": V2_TAG,
        "description": (
            "**Current.** A shop's to-do board. Lists page with an opaque keyset `cursor` "
            "(`{data, next_cursor, has_more}`), stable while tasks are added; the free-text "
            "field is `description`."
        ),
    },
    {
        "name": V1_TAG,
        "description": (
            "The older contract, still served and not deprecated yet. Differences from v2: "
            "numbered pages (`page`, `per_page`, with `total` and `pages`) instead of cursors, "
            "and the free-text field is `notes` (v2: `description`)."
        ),
    },
]
"""Tag descriptions for the app's ``openapi_tags`` (the gateway passes them to FastAPI)."""

v1_router = APIRouter(tags=[V1_TAG])
v2_router = APIRouter(tags=[V2_TAG])


async def _unit_of_work(request: Request) -> TaskUnitOfWork:
    """The platform's tasks unit of work: the one ``folio.bootstrap`` provides (no I/O, so ``async``)."""
    return platform_of(request).get(TASK_UNIT_OF_WORK)


UnitOfWork = Annotated[TaskUnitOfWork, Depends(_unit_of_work)]
TaskId = Annotated[uuid.UUID, Path(description="The task's id.")]
Filters = Annotated[TaskFilter, Query()]
Sort = Annotated[
    TaskSort,
    Query(description="Order of the list; `-` for descending. Ties break on the task id."),
]

_READ_PROBLEMS = problem_responses(401, 404, 422, 429)
_LIST_PROBLEMS = problem_responses(401, 422, 429)
# 400: a body that is not even JSON (FastAPI cannot decode it) is a bad request.
_WRITE_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 422, 429)

_CREATE_EXAMPLES: dict[str, Any] = {
    "minimal": {"summary": "Just a title", "value": {"title": "Reorder Moomin paperbacks"}},
    "full": {
        "summary": "Everything",
        "value": {
            "title": "Reorder Moomin paperbacks",
            "notes": "Ask the distributor about the winter edition.",
            "status": "todo",
            "priority": "high",
            "due_date": "2026-12-01",
            "tags": ["orders", "children"],
        },
    },
}
_UPDATE_EXAMPLES: dict[str, Any] = {
    "complete": {"summary": "Mark done, safely", "value": {"status": "done", "version": 3}},
    "reschedule": {"summary": "Move the due date", "value": {"due_date": "2026-12-15"}},
    "unassign": {"summary": "Clear the assignee", "value": {"assignee_id": None}},
}


_UPDATE_DESCRIPTION = (
    "Only the fields sent change; `due_date` and `assignee_id` may be null to clear them. "
    "Send `version` or `If-Match` to fail with 409 instead of overwriting someone else's change."
)


_V1_PAGE: TypeAdapter[TaskPage] = TypeAdapter(TaskPage)
_V2_PAGE: TypeAdapter[TaskCursorPage] = TypeAdapter(TaskCursorPage)


async def _cached_json(
    request: Request,
    principal: Principal,
    key_parts: tuple[object, ...],
    build: Callable[[], Awaitable[bytes]],
) -> Response:
    """The JSON list ``build`` encodes, through the platform's page cache (``folio.tasks.page_cache``).

    The body is the one FastAPI would have written for the route's response model
    (pydantic's JSON of the same model), so a hit and a miss answer byte for byte alike.
    """
    pages = platform_of(request).find(TASK_PAGES)
    if pages is None:  # a platform without caches (some tests build one by hand)
        body = await build()
    else:
        key = pages.key(principal.tenant_id, *key_parts)
        body = await pages.get_or_build(principal.tenant_id, key, build)
    return Response(content=body, media_type="application/json")


def _with_etag(response: Response, task: TaskRead) -> None:
    response.headers["ETag"] = task.etag


# --- the bodies both versions share: v1 and v2 differ only in shapes, translated around them ----


def _created(request: Request, response: Response, task: TaskRead, *, get_route: str) -> None:
    """``Location`` names the new task under ``get_route`` (the same version's); ``ETag`` its version."""
    response.headers["Location"] = str(request.url_for(get_route, task_id=task.id))
    _with_etag(response, task)


async def _get(response: Response, uow: TaskUnitOfWork, principal: Principal, task_id: uuid.UUID) -> TaskRead:
    task = await service.get_task(uow, principal=principal, task_id=task_id)
    _with_etag(response, task)
    return task


async def _update(
    *,
    response: Response,
    uow: TaskUnitOfWork,
    principal: Principal,
    task_id: uuid.UUID,
    data: TaskUpdate,
    if_match: str | None,
) -> TaskRead:
    task = await service.update_task(
        uow,
        principal=principal,
        task_id=task_id,
        data=data,
        if_version=expected_version(if_match, entity="task"),
    )
    _with_etag(response, task)
    return task


async def _delete(
    uow: TaskUnitOfWork, principal: Principal, task_id: uuid.UUID, if_match: str | None
) -> Response:
    await service.delete_task(
        uow, principal=principal, task_id=task_id, if_version=expected_version(if_match, entity="task")
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- v1 ---------------------------------------------------------------------------------------


@v1_router.get(
    "/tasks",
    operation_id="listTasksV1",
    summary="List tasks (numbered pages)",
    description=(
        "The tasks the caller may see (customers: only their own), filtered and sorted, one "
        "numbered page at a time. A page past the last is empty, not an error. "
        "v2 pages with a cursor instead."
    ),
    response_model=TaskPage,
    responses=_LIST_PROBLEMS,
)
async def list_tasks_v1(
    *,
    request: Request,
    uow: UnitOfWork,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    filters: Filters,
    sort: Sort = TaskSort.CREATED_AT_DESC,
    page: Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")] = 1,
    per_page: Annotated[
        int | None,
        Query(ge=1, le=1000, description="Tasks per page; default and maximum come from the `api` settings."),
    ] = None,
) -> Response:
    """``GET /api/v1/tasks``: the encoded page, from the page cache when it holds it."""

    async def build() -> bytes:
        found = await service.list_tasks(
            uow,
            settings=settings,
            principal=principal,
            filters=filters,
            sort=sort,
            page=page,
            per_page=per_page,
        )
        return _V1_PAGE.dump_json(found)

    key = ("v1", service.query_for(principal, filters, sort), page, per_page)
    return await _cached_json(request, principal, key, build)


@v1_router.post(
    "/tasks",
    operation_id="createTaskV1",
    summary="Create a task",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskRead,
    responses={201: {"headers": ETAG_HEADER}, **_WRITE_PROBLEMS},
)
async def create_task_v1(
    *,
    request: Request,
    response: Response,
    uow: UnitOfWork,
    principal: CurrentPrincipal,
    data: Annotated[TaskCreate, Body(openapi_examples=_CREATE_EXAMPLES)],
) -> TaskRead:
    """``POST /api/v1/tasks``: 201 with ``Location`` and ``ETag``."""
    task = await service.create_task(uow, principal=principal, data=data)
    _created(request, response, task, get_route="get_task_v1")
    return task


@v1_router.get(
    "/tasks/{task_id}",
    name="get_task_v1",
    operation_id="getTaskV1",
    summary="Get a task",
    response_model=TaskRead,
    responses={200: {"headers": ETAG_HEADER}, **_READ_PROBLEMS},
)
async def get_task_v1(
    *, response: Response, uow: UnitOfWork, principal: CurrentPrincipal, task_id: TaskId
) -> TaskRead:
    """``GET /api/v1/tasks/{task_id}``."""
    return await _get(response, uow, principal, task_id)


@v1_router.patch(
    "/tasks/{task_id}",
    operation_id="updateTaskV1",
    summary="Change a task",
    description=_UPDATE_DESCRIPTION,
    response_model=TaskRead,
    responses={200: {"headers": ETAG_HEADER}, **_WRITE_PROBLEMS},
)
async def update_task_v1(
    *,
    response: Response,
    uow: UnitOfWork,
    principal: CurrentPrincipal,
    task_id: TaskId,
    data: Annotated[TaskUpdate, Body(openapi_examples=_UPDATE_EXAMPLES)],
    if_match: IfMatch = None,
) -> TaskRead:
    """``PATCH /api/v1/tasks/{task_id}``."""
    return await _update(
        response=response, uow=uow, principal=principal, task_id=task_id, data=data, if_match=if_match
    )


@v1_router.delete(
    "/tasks/{task_id}",
    operation_id="deleteTaskV1",
    summary="Delete a task (staff only)",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_WRITE_PROBLEMS,
)
async def delete_task_v1(
    *, uow: UnitOfWork, principal: CurrentPrincipal, task_id: TaskId, if_match: IfMatch = None
) -> Response:
    """``DELETE /api/v1/tasks/{task_id}``: 204."""
    return await _delete(uow, principal, task_id, if_match)


# --- v2 ---------------------------------------------------------------------------------------


@v2_router.get(
    "/tasks",
    operation_id="listTasksV2",
    summary="List tasks (cursor pages)",
    description=(
        "The tasks the caller may see (customers: only their own), filtered and sorted. Pass "
        "`next_cursor` back as `cursor` (with the same `sort`) for the next page; tasks added "
        "meanwhile never make a page skip or repeat one. An edited or foreign cursor is a 400 "
        "`invalid-cursor` problem."
    ),
    response_model=TaskCursorPage,
    responses=problem_responses(400, 401, 422, 429),
)
async def list_tasks_v2(
    *,
    request: Request,
    uow: UnitOfWork,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    filters: Filters,
    sort: Sort = TaskSort.CREATED_AT_DESC,
    cursor: Annotated[
        Annotated[str, CleanText(max_length=2048)] | None,
        Query(description="`next_cursor` of the previous page; omit for the first."),
    ] = None,
    limit: Annotated[
        int | None,
        Query(ge=1, le=1000, description="Tasks per page; default and maximum come from the `api` settings."),
    ] = None,
) -> Response:
    """``GET /api/v2/tasks``: the encoded page, from the page cache when it holds it."""

    async def build() -> bytes:
        tasks = await service.list_tasks_after(
            uow,
            settings=settings,
            principal=principal,
            filters=filters,
            sort=sort,
            cursor=cursor,
            limit=limit,
        )
        return _V2_PAGE.dump_json(TaskCursorPage.from_slice(tasks))

    key = ("v2", service.query_for(principal, filters, sort), cursor, limit)
    return await _cached_json(request, principal, key, build)


@v2_router.post(
    "/tasks",
    operation_id="createTaskV2",
    summary="Create a task",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskReadV2,
    responses={201: {"headers": ETAG_HEADER}, **_WRITE_PROBLEMS},
)
async def create_task_v2(
    *,
    request: Request,
    response: Response,
    uow: UnitOfWork,
    principal: CurrentPrincipal,
    data: Annotated[
        TaskCreateV2,
        Body(
            openapi_examples={
                "minimal": _CREATE_EXAMPLES["minimal"],
                "full": {
                    "summary": "Everything",
                    "value": {
                        **{k: v for k, v in _CREATE_EXAMPLES["full"]["value"].items() if k != "notes"},
                        "description": "Ask the distributor about the winter edition.",
                    },
                },
            }
        ),
    ],
) -> TaskReadV2:
    """``POST /api/v2/tasks``: 201 with ``Location`` and ``ETag``."""
    task = await service.create_task(uow, principal=principal, data=data.to_v1())
    _created(request, response, task, get_route="get_task_v2")
    return TaskReadV2.from_v1(task)


@v2_router.get(
    "/tasks/{task_id}",
    name="get_task_v2",
    operation_id="getTaskV2",
    summary="Get a task",
    response_model=TaskReadV2,
    responses={200: {"headers": ETAG_HEADER}, **_READ_PROBLEMS},
)
async def get_task_v2(
    *, response: Response, uow: UnitOfWork, principal: CurrentPrincipal, task_id: TaskId
) -> TaskReadV2:
    """``GET /api/v2/tasks/{task_id}``."""
    return TaskReadV2.from_v1(await _get(response, uow, principal, task_id))


@v2_router.patch(
    "/tasks/{task_id}",
    operation_id="updateTaskV2",
    summary="Change a task",
    description=_UPDATE_DESCRIPTION,
    response_model=TaskReadV2,
    responses={200: {"headers": ETAG_HEADER}, **_WRITE_PROBLEMS},
)
async def update_task_v2(
    *,
    response: Response,
    uow: UnitOfWork,
    principal: CurrentPrincipal,
    task_id: TaskId,
    data: Annotated[TaskUpdateV2, Body(openapi_examples=_UPDATE_EXAMPLES)],
    if_match: IfMatch = None,
) -> TaskReadV2:
    """``PATCH /api/v2/tasks/{task_id}``."""
    return TaskReadV2.from_v1(
        await _update(
            response=response,
            uow=uow,
            principal=principal,
            task_id=task_id,
            data=data.to_v1(),
            if_match=if_match,
        )
    )


@v2_router.delete(
    "/tasks/{task_id}",
    operation_id="deleteTaskV2",
    summary="Delete a task (staff only)",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_WRITE_PROBLEMS,
)
async def delete_task_v2(
    *, uow: UnitOfWork, principal: CurrentPrincipal, task_id: TaskId, if_match: IfMatch = None
) -> Response:
    """``DELETE /api/v2/tasks/{task_id}``: 204."""
    return await _delete(uow, principal, task_id, if_match)
