"""The tasks context's public surface: what other contexts and entry points may import.

Key contracts: the service functions take ``(uow, *, principal, ...)``, where ``uow``
is a ``TaskUnitOfWork`` (the process's is ``platform.get(TASK_UNIT_OF_WORK)``, the
``SqlAlchemyTaskUnitOfWork`` bootstrap provides), and apply the visibility rules
themselves (customers see only their own tasks; another shop's task is
``NotFoundError``); DTOs are the v1 shapes (``TaskRead``), the v2 renaming lives in
the HTTP adapter; ``TaskPages`` (``TASK_PAGES``) caches the encoded lists, and the
unit of work's ``on_change`` is how writes reach it; ``DATA_MIGRATIONS`` are the per-shop data migrations the
``folio tenants migrate`` runner applies.
"""

from __future__ import annotations

from folio.tasks.cursor import InvalidCursorError
from folio.tasks.data_migrations import DATA_MIGRATIONS
from folio.tasks.events import EVENT_TYPES
from folio.tasks.page_cache import PAGES_CACHE, TASK_PAGES, TaskPages
from folio.tasks.schemas import (
    TaskCreate,
    TaskFilter,
    TaskPage,
    TaskPriority,
    TaskRead,
    TaskSlice,
    TaskSort,
    TaskStatus,
    TaskUpdate,
    normalise_tags,
)
from folio.tasks.service import (
    create_task,
    delete_task,
    get_task,
    list_tasks,
    list_tasks_after,
    update_task,
)
from folio.tasks.unit_of_work import TASK_UNIT_OF_WORK, SqlAlchemyTaskUnitOfWork, TaskUnitOfWork

__all__ = [
    "DATA_MIGRATIONS",
    "EVENT_TYPES",
    "PAGES_CACHE",
    "TASK_PAGES",
    "TASK_UNIT_OF_WORK",
    "InvalidCursorError",
    "SqlAlchemyTaskUnitOfWork",
    "TaskCreate",
    "TaskFilter",
    "TaskPage",
    "TaskPages",
    "TaskPriority",
    "TaskRead",
    "TaskSlice",
    "TaskSort",
    "TaskStatus",
    "TaskUnitOfWork",
    "TaskUpdate",
    "create_task",
    "delete_task",
    "get_task",
    "list_tasks",
    "list_tasks_after",
    "normalise_tags",
    "update_task",
]
