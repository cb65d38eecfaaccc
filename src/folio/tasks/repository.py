"""Where tasks are kept: the ``TaskRepository`` port, its SQLAlchemy adapter and an in-memory fake.

The three agree on one contract (``tests/unit/tasks/test_repository_contract.py`` and
its integration twin run the same cases against each):

- Every method sees only the shop in ``tenant_scope`` (``tenant_filter`` on every
  query; PostgreSQL's row-level security underneath). Outside a scope they raise
  ``TenantRequiredError``.
- ``Visibility`` narrows further: a customer's queries see only tasks they created or
  are assigned. A task outside the visibility is indistinguishable from a missing one.
- Lists are ordered by the ``TaskSort`` with the task id as the tie-break, in the same
  direction, so every order is total and keyset pages never skip or repeat.
- ``due_date`` sorts put tasks with no due date last in both directions.
"""

from __future__ import annotations

import abc
import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    case,
    delete,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.paging import keyset_after
from folio.core.tenancy import require_tenant, tenant_filter
from folio.tasks.cursor import CursorPosition, SortKey
from folio.tasks.models import Task
from folio.tasks.schemas import PRIORITY_RANK, TaskPriority, TaskSort, TaskStatus

__all__ = [
    "FakeTaskRepository",
    "SqlAlchemyTaskRepository",
    "TaskQuery",
    "TaskRepository",
    "Visibility",
    "sort_key_of",
]

_SelectT = TypeVar("_SelectT", bound=Select[*tuple[Any, ...]])

NO_DUE_DATE_ASC = dt.date(9999, 12, 31)
"""Stands in for "no due date" in ascending order, so such tasks come last."""

NO_DUE_DATE_DESC = dt.date(1, 1, 1)
"""Stands in for "no due date" in descending order, so such tasks come last there too."""


@dataclass(frozen=True)
class Visibility:
    """Which of the shop's tasks a caller may see.

    ``everything`` for staff; otherwise only tasks created by ``actor_id`` or assigned
    to ``user_id`` (an API key has no user, so only what it created).
    """

    everything: bool
    actor_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None

    @classmethod
    def all_tasks(cls) -> Visibility:
        """Every task of the shop."""
        return cls(everything=True)

    def allows(self, task: Task) -> bool:
        """Whether ``task`` is visible (the in-memory form of ``SqlAlchemyTaskRepository``'s filter)."""
        if self.everything:
            return True
        return task.created_by == self.actor_id or (
            self.user_id is not None and task.assignee_id == self.user_id
        )


@dataclass(frozen=True)
class TaskQuery:
    """A resolved list query: filters (``assignee_id`` already a UUID), order, and visibility."""

    visibility: Visibility
    sort: TaskSort = TaskSort.CREATED_AT_DESC
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    tag: str | None = None
    assignee_id: uuid.UUID | None = None
    q: str | None = None
    due_before: dt.date | None = None
    due_after: dt.date | None = None


def sort_key_of(task: Task, sort: TaskSort) -> SortKey:
    """The key ``task`` sorts by under ``sort`` (what a cursor records), computed in Python.

    Titles sort case-insensitively by their lower-cased form.
    """
    match sort.field:
        case "created_at":
            return task.created_at
        case "due_date":
            if task.due_date is not None:
                return task.due_date
            return NO_DUE_DATE_DESC if sort.descending else NO_DUE_DATE_ASC
        case "priority":
            return PRIORITY_RANK[task.priority]
        case _:
            return task.title.lower()


class TaskRepository(abc.ABC):
    """The port: how the service stores and finds one shop's tasks (see the module docstring)."""

    @abc.abstractmethod
    async def add(self, task: Task) -> None:
        """Store a new task (its id and timestamps already set)."""

    @abc.abstractmethod
    async def get(
        self, task_id: uuid.UUID, *, visibility: Visibility, for_update: bool = False
    ) -> Task | None:
        """The task, or None when it is missing, another shop's, or not visible.

        ``for_update`` locks the row until the transaction ends (PostgreSQL), so a
        read-check-write of its ``version`` cannot interleave with another writer.
        """

    @abc.abstractmethod
    async def remove(self, task: Task) -> None:
        """Delete a task that ``get`` returned."""

    @abc.abstractmethod
    async def count(self) -> int:
        """How many tasks the shop holds (all of them, for quotas)."""

    @abc.abstractmethod
    async def find_page(self, query: TaskQuery, *, offset: int, limit: int) -> tuple[list[Task], int]:
        """The tasks matching ``query`` from ``offset`` (at most ``limit``), and how many match in all."""

    @abc.abstractmethod
    async def find_after(
        self, query: TaskQuery, *, after: CursorPosition | None, limit: int
    ) -> list[tuple[Task, SortKey]]:
        """Up to ``limit`` matching tasks strictly after ``after`` in the query's order, with their keys."""


# --- SQLAlchemy --------------------------------------------------------------------------------


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlAlchemyTaskRepository(TaskRepository):
    """Tasks in the ``tasks`` table, through the caller's session (one unit of work)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def add(self, task: Task) -> None:
        """Store a new task; it is flushed with the unit of work."""
        task.tenant_id = require_tenant()
        self.session.add(task)

    async def get(
        self, task_id: uuid.UUID, *, visibility: Visibility, for_update: bool = False
    ) -> Task | None:
        """The visible task with this id in the shop in scope, or None."""
        statement = select(Task).where(tenant_filter(Task), Task.id == task_id, self._visible(visibility))
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def remove(self, task: Task) -> None:
        """Delete the task (by id and tenant, so a detached object cannot reach another shop)."""
        await self.session.execute(delete(Task).where(tenant_filter(Task), Task.id == task.id))

    async def count(self) -> int:
        """How many tasks the shop in scope holds."""
        statement = select(func.count()).select_from(Task).where(tenant_filter(Task))
        return int((await self.session.execute(statement)).scalar_one())

    async def find_page(self, query: TaskQuery, *, offset: int, limit: int) -> tuple[list[Task], int]:
        """One page in the query's order, and the total matching."""
        conditions = self._conditions(query)
        total_statement = select(func.count()).select_from(Task).where(*conditions)
        total = int((await self.session.execute(total_statement)).scalar_one())
        if offset >= total:
            return [], total
        key = self._sort_expression(query.sort)
        statement = (
            self._ordered(select(Task).where(*conditions), key, query.sort).offset(offset).limit(limit)
        )
        return list((await self.session.execute(statement)).scalars()), total

    async def find_after(
        self, query: TaskQuery, *, after: CursorPosition | None, limit: int
    ) -> list[tuple[Task, SortKey]]:
        """Up to ``limit`` tasks after ``after``, each with the sort key the database compared."""
        key = self._sort_expression(query.sort)
        statement = select(Task, key.label("sort_key")).where(*self._conditions(query))
        if after is not None:
            statement = statement.where(
                keyset_after(key, Task.id, after.key, after.task_id, descending=query.sort.descending)
            )
        statement = self._ordered(statement, key, query.sort).limit(limit)
        rows = (await self.session.execute(statement)).all()
        return [(row[0], row[1]) for row in rows]

    # -- building blocks --

    def _visible(self, visibility: Visibility) -> ColumnElement[bool]:
        if visibility.everything:
            return true()
        mine = [Task.created_by == visibility.actor_id]
        if visibility.user_id is not None:
            mine.append(Task.assignee_id == visibility.user_id)
        return or_(false(), *mine)

    def _has_tag(self, tag: str) -> ColumnElement[bool]:
        """``tags`` contains ``tag``: JSONB containment on PostgreSQL, ``json_each`` on SQLite."""
        if self._dialect == "postgresql":
            # tasks.tags @> '["tag"]'::jsonb - served by a GIN index when one is added.
            return type_coerce(Task.tags, JSONB).contains([tag])
        each = func.json_each(Task.tags).table_valued("value", joins_implicitly=True).alias("tag")
        return exists(select(literal(1)).select_from(each).where(each.c.value == tag))

    def _conditions(self, query: TaskQuery) -> list[ColumnElement[bool]]:
        conditions = [tenant_filter(Task), self._visible(query.visibility)]
        if query.status is not None:
            conditions.append(Task.status == query.status.value)
        if query.priority is not None:
            conditions.append(Task.priority == query.priority.value)
        if query.tag is not None:
            conditions.append(self._has_tag(query.tag))
        if query.assignee_id is not None:
            conditions.append(Task.assignee_id == query.assignee_id)
        if query.q:
            pattern = f"%{_escape_like(query.q)}%"
            conditions.append(
                or_(Task.title.ilike(pattern, escape="\\"), Task.notes.ilike(pattern, escape="\\"))
            )
        if query.due_before is not None:
            conditions.append(Task.due_date <= query.due_before)
        if query.due_after is not None:
            conditions.append(Task.due_date >= query.due_after)
        return conditions

    @staticmethod
    def _sort_expression(sort: TaskSort) -> ColumnElement[SortKey]:
        """The SQL the order compares; ``sort_key_of`` is its Python twin."""
        expression: ColumnElement[SortKey]
        match sort.field:
            case "created_at":
                expression = Task.created_at  # type: ignore[assignment]  # a column is an element
            case "due_date":
                none = NO_DUE_DATE_DESC if sort.descending else NO_DUE_DATE_ASC
                expression = func.coalesce(Task.due_date, literal(none, Date))
            case "priority":
                expression = case(
                    *(
                        (Task.priority == name, literal(rank, Integer))
                        for name, rank in PRIORITY_RANK.items()
                    ),
                    else_=literal(len(PRIORITY_RANK), Integer),
                )
            case _:
                expression = func.lower(Task.title, type_=String)
        return expression

    @staticmethod
    def _ordered(statement: _SelectT, key: ColumnElement[SortKey], sort: TaskSort) -> _SelectT:
        if sort.descending:
            return statement.order_by(key.desc(), Task.id.desc())
        return statement.order_by(key.asc(), Task.id.asc())


# --- in memory ---------------------------------------------------------------------------------


class FakeTaskRepository(TaskRepository):
    """Tasks in a dict, honouring the same contract; for unit tests and for other contexts' tests.

    Shared between "transactions" by passing the same ``store``; it has no rollback of its
    own (``FakeTaskUnitOfWork`` gives each unit a copy and keeps it only on success).
    UUIDs sort as the database sorts them (by their bytes), titles by their lower case.
    """

    def __init__(self, store: dict[uuid.UUID, Task] | None = None) -> None:
        self.store: dict[uuid.UUID, Task] = {} if store is None else store

    def _shop(self) -> list[Task]:
        tenant = require_tenant()
        return [task for task in self.store.values() if task.tenant_id == tenant]

    async def add(self, task: Task) -> None:
        """Keep the task under the shop in scope."""
        task.tenant_id = require_tenant()
        self.store[task.id] = task

    async def get(
        self, task_id: uuid.UUID, *, visibility: Visibility, for_update: bool = False
    ) -> Task | None:
        """The visible task, or None."""
        del for_update  # one thread, nothing to lock
        tenant = require_tenant()
        task = self.store.get(task_id)
        if task is None or task.tenant_id != tenant or not visibility.allows(task):
            return None
        return task

    async def remove(self, task: Task) -> None:
        """Forget the task."""
        if task.tenant_id == require_tenant():
            self.store.pop(task.id, None)

    async def count(self) -> int:
        """How many tasks the shop holds."""
        return len(self._shop())

    def _matching(self, query: TaskQuery) -> list[Task]:
        checks: list[Callable[[Task], bool]] = [query.visibility.allows]
        if query.status is not None:
            checks.append(lambda t: t.status == query.status)
        if query.priority is not None:
            checks.append(lambda t: t.priority == query.priority)
        if query.tag is not None:
            checks.append(lambda t: query.tag in t.tags)
        if query.assignee_id is not None:
            checks.append(lambda t: t.assignee_id == query.assignee_id)
        if query.q:
            needle = query.q.lower()
            checks.append(lambda t: needle in t.title.lower() or needle in t.notes.lower())
        if query.due_before is not None:
            before = query.due_before
            checks.append(lambda t: t.due_date is not None and t.due_date <= before)
        if query.due_after is not None:
            after = query.due_after
            checks.append(lambda t: t.due_date is not None and t.due_date >= after)
        found = [task for task in self._shop() if all(check(task) for check in checks)]
        found.sort(key=lambda t: (sort_key_of(t, query.sort), t.id.bytes), reverse=query.sort.descending)
        return found

    async def find_page(self, query: TaskQuery, *, offset: int, limit: int) -> tuple[list[Task], int]:
        """One page and the total matching."""
        found = self._matching(query)
        return found[offset : offset + limit], len(found)

    async def find_after(
        self, query: TaskQuery, *, after: CursorPosition | None, limit: int
    ) -> list[tuple[Task, SortKey]]:
        """Up to ``limit`` tasks after ``after``, with their keys."""
        found: Sequence[Task] = self._matching(query)
        if after is not None:
            mark = (after.key, after.task_id.bytes)

            def beyond(task: Task) -> bool:
                here = (sort_key_of(task, query.sort), task.id.bytes)
                return here < mark if query.sort.descending else here > mark

            found = [task for task in found if beyond(task)]
        return [(task, sort_key_of(task, query.sort)) for task in found[:limit]]
