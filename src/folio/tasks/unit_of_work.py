"""The tasks service's unit of work: one transaction of one shop, with what the service does in it.

The service never builds a repository or opens a session; it is handed a
``TaskUnitOfWork`` (the platform's is ``platform.get(TASK_UNIT_OF_WORK)``, which
``folio.bootstrap`` provides) and calls ``run(tenant_id, work)``. ``work`` gets a
``TaskTransaction``: the shop's ``TaskRepository`` (``tasks``) and the side effects that
must commit with the change: the audit event, the quota claim and the usage count.

Key contracts, kept by both implementations (``tests/integration/tasks/
test_unit_of_work_contract.py`` runs the same checks on the fake, PostgreSQL and SQLite;
``tests/unit/tasks/test_service.py`` runs the service's rules on the fake,
``tests/integration/tasks/test_service.py`` on SQL):

- **All or nothing.** If ``work`` returns, its rows, audit events and usage counts are
  kept together; if it raises, none of them is.
- **One shop.** ``work`` runs inside ``tenant_scope(tenant_id)``: its repository sees that
  shop only, and its events and counts are that shop's.
- **Retried whole.** ``work`` may run more than once (``Database.run`` retries a unit on
  a transient error), so it has no effects outside its transaction.
- ``readonly`` units keep nothing (SQL: they read from the replica and commit nothing).
- ``is_member`` is its own read, outside any unit: identity offers no check that runs
  in the tasks transaction (see ``SqlAlchemyTaskUnitOfWork.is_member``).

``SqlAlchemyTaskUnitOfWork`` is the real one; ``FakeTaskUnitOfWork`` keeps everything
in memory and records the side effects so that tests can assert them.
"""

from __future__ import annotations

import abc
import copy
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.api import record_change_event
from folio.core.db import Database
from folio.core.errors import NotFoundError, QuotaExceededError
from folio.core.platform import Slot
from folio.core.security import Principal
from folio.core.settings import Settings
from folio.core.tenancy import tenant_scope
from folio.identity.api import principal_for
from folio.tasks.events import publish_task_event
from folio.tasks.models import Task
from folio.tasks.repository import FakeTaskRepository, SqlAlchemyTaskRepository, TaskRepository
from folio.usage.api import Meter, claim_quota, record_usage

__all__ = [
    "ENTITY",
    "TASK_UNIT_OF_WORK",
    "FakeTaskUnitOfWork",
    "RecordedChange",
    "SideEffect",
    "SqlAlchemyTaskUnitOfWork",
    "TaskTransaction",
    "TaskUnitOfWork",
]

T = TypeVar("T")

ENTITY = "task"
"""The audit trail's ``entity_type`` for every event this context records."""

SideEffect = Literal["claim_quota", "record_usage", "record_change_event"]
"""The names of ``TaskTransaction``'s side effects (``FakeTaskUnitOfWork.fail_on`` keys)."""


class TaskTransaction(abc.ABC):
    """One shop's transaction as the service sees it: its tasks and the effects that commit with them."""

    tasks: TaskRepository
    """The shop's tasks, in this transaction."""

    @abc.abstractmethod
    async def claim_quota(self) -> None:
        """Make room for one more task in the shop, or raise ``QuotaExceededError`` (403).

        The claim holds until the transaction ends (a concurrent claim of the same shop
        waits for it), so the caller adds the task in this same transaction.
        """

    @abc.abstractmethod
    async def record_usage(self) -> None:
        """Add one created task to the shop's ``tasks`` meter for today."""

    @abc.abstractmethod
    async def record_change_event(
        self,
        principal: Principal,
        *,
        action: str,
        task_id: uuid.UUID,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        """Record in the shop's audit trail that ``principal`` did ``action`` to the task, and publish it.

        The SQL unit also adds the task's outbox event (``folio.tasks.events``) with the
        audit row; the fake records the change only.

        ``before`` and ``after`` are the task's JSON snapshots (None for the side that
        does not exist: a created task has no ``before``).
        """


class TaskUnitOfWork(abc.ABC):
    """The port the tasks service runs on (see the module docstring for its contracts)."""

    @abc.abstractmethod
    async def run(
        self,
        tenant_id: uuid.UUID,
        work: Callable[[TaskTransaction], Awaitable[T]],
        *,
        readonly: bool = False,
    ) -> T:
        """Run ``work`` in one transaction of shop ``tenant_id``, keep its effects, and return its result.

        If ``work`` raises, nothing it did is kept and the exception propagates
        unchanged. ``work`` may run more than once and must not call ``run`` itself.
        """

    @abc.abstractmethod
    async def is_member(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """Whether ``user_id`` is a member of shop ``tenant_id`` now (a read of its own)."""


TASK_UNIT_OF_WORK: Slot[TaskUnitOfWork] = Slot("tasks unit of work")
"""Where the platform keeps the tasks unit of work; ``folio.bootstrap`` provides the SQL one."""


# --- SQLAlchemy --------------------------------------------------------------------------------


class _SqlAlchemyTaskTransaction(TaskTransaction):
    """A ``Database.run`` session: the repository and the audit and usage writes share it."""

    def __init__(self, session: AsyncSession, *, settings: Settings, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.settings = settings
        self.tenant_id = tenant_id
        self.tasks = SqlAlchemyTaskRepository(session)

    async def claim_quota(self) -> None:
        """``usage.claim_quota`` on this session, counting the shop's tasks in it."""
        await claim_quota(
            self.session,
            settings=self.settings,
            tenant_id=self.tenant_id,
            meter=Meter.TASKS,
            count_in_use=self.tasks.count,
        )

    async def record_usage(self) -> None:
        """``usage.record_usage`` of one task, on this session."""
        await record_usage(self.session, tenant_id=self.tenant_id, meter=Meter.TASKS)

    async def record_change_event(
        self,
        principal: Principal,
        *,
        action: str,
        task_id: uuid.UUID,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        """``audit.record_change_event`` of the task and its outbox event (``folio.tasks.events``)."""
        await record_change_event(
            self.session,
            principal,
            action=action,
            entity_type=ENTITY,
            entity_id=task_id,
            before=before,
            after=after,
        )
        await publish_task_event(
            self.session, tenant_id=self.tenant_id, action=action, task_id=task_id, before=before, after=after
        )


class SqlAlchemyTaskUnitOfWork(TaskUnitOfWork):
    """Units of work on the platform's ``Database`` (its retries, breaker and read routing).

    ``settings`` give the quota's plan defaults; ``on_change`` hears of each shop whose
    unit committed, after the commit (so a reader it prompts sees the change). Holds no
    connection: each ``run`` is one ``Database.run``, so one instance serves every
    request of a process.
    """

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        on_change: Callable[[uuid.UUID], Awaitable[None]] | None = None,
    ) -> None:
        """``on_change(tenant_id)`` runs after every unit that committed (the page cache forgets the shop)."""
        self.database = database
        self.settings = settings
        self.on_change = on_change

    async def run(
        self,
        tenant_id: uuid.UUID,
        work: Callable[[TaskTransaction], Awaitable[T]],
        *,
        readonly: bool = False,
    ) -> T:
        """``work`` in ``tenant_scope(tenant_id)`` as one ``Database.run`` (``readonly``: on the replica)."""

        async def in_session(session: AsyncSession) -> T:
            return await work(
                _SqlAlchemyTaskTransaction(session, settings=self.settings, tenant_id=tenant_id)
            )

        with tenant_scope(tenant_id):
            result = await self.database.run(in_session, readonly=readonly)
        if not readonly and self.on_change is not None:
            await self.on_change(tenant_id)
        return result

    async def is_member(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """Identity's ``principal_for``: its own transaction, on the primary.

        Called before the change's unit, because identity offers no check that runs in
        ours. A member removed in the instant between would still be assigned; they see
        nothing of the shop any more, and staff can reassign the task.
        """
        try:
            await principal_for(self.database, tenant_id=tenant_id, user_id=user_id)
        except NotFoundError:
            return False
        return True


# --- in memory ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedChange:
    """An audit event ``FakeTaskUnitOfWork`` kept: who did what to which task of which shop."""

    tenant_id: uuid.UUID
    principal: Principal
    action: str
    task_id: uuid.UUID
    before: dict[str, Any] | None
    after: dict[str, Any] | None


# From the table, not the mapper: inspecting the mapper at import would configure every
# mapper of the registry before the other contexts' models are imported.
_COLUMNS = [column.key for column in Task.__table__.columns]


def _copy(task: Task) -> Task:
    """A detached copy of ``task`` (its lists too), so a unit's edits touch only its own copy."""
    return Task(**{key: copy.deepcopy(getattr(task, key)) for key in _COLUMNS})


class _FakeTaskTransaction(TaskTransaction):
    """A unit's private copy of the rows, and the effects it will add if it succeeds."""

    def __init__(self, owner: FakeTaskUnitOfWork, rows: dict[uuid.UUID, Task], tenant_id: uuid.UUID) -> None:
        self.owner = owner
        self.tenant_id = tenant_id
        self.rows = rows
        self.tasks = FakeTaskRepository(rows)
        self.changes: list[RecordedChange] = []
        self.created = 0

    def _attempt(self, effect: SideEffect) -> None:
        failure = self.owner.fail_on.get(effect)
        if failure is not None:
            raise failure

    async def claim_quota(self) -> None:
        """Refuse when the shop's tasks already fill its ``quotas`` entry (no entry: no limit)."""
        self._attempt("claim_quota")
        limit = self.owner.quotas.get(self.tenant_id)
        if limit is None:
            return
        in_use = await self.tasks.count()
        if in_use + 1 > limit:
            raise QuotaExceededError(
                f"the shop's {Meter.TASKS.value} quota is {limit} and {in_use} are in use",
                meter=Meter.TASKS.value,
                limit=limit,
                in_use=in_use,
            )

    async def record_usage(self) -> None:
        """Count one task, kept in ``usage`` if the unit succeeds."""
        self._attempt("record_usage")
        self.created += 1

    async def record_change_event(
        self,
        principal: Principal,
        *,
        action: str,
        task_id: uuid.UUID,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        """Note the event, kept in ``changes`` if the unit succeeds."""
        self._attempt("record_change_event")
        self.changes.append(
            RecordedChange(
                tenant_id=self.tenant_id,
                principal=principal,
                action=action,
                task_id=task_id,
                before=copy.deepcopy(before),
                after=copy.deepcopy(after),
            )
        )


class FakeTaskUnitOfWork(TaskUnitOfWork):
    """Units of work in memory, all or nothing like the real one; for unit tests.

    What it keeps, for tests to arrange and assert:

    - ``rows``: every shop's tasks by id (a ``FakeTaskRepository`` store).
    - ``changes``: the audit events of the units that succeeded, in order.
    - ``usage``: tasks created per shop (the ``tasks`` meter, all days together).
    - ``members``: ``(shop, user)`` pairs ``is_member`` answers yes to.
    - ``quotas``: the task quota per shop; a shop without one has no limit.
    - ``fail_on``: side effects that raise the given exception instead of recording,
      to show that a failure inside a unit leaves everything as it was.

    Each unit works on copies of the rows and publishes them, its events and its counts
    only when ``work`` returns (and the unit is not ``readonly``).
    """

    def __init__(
        self,
        *,
        members: Iterable[tuple[uuid.UUID, uuid.UUID]] = (),
        quotas: dict[uuid.UUID, int] | None = None,
    ) -> None:
        self.rows: dict[uuid.UUID, Task] = {}
        self.changes: list[RecordedChange] = []
        self.usage: Counter[uuid.UUID] = Counter()
        self.members: set[tuple[uuid.UUID, uuid.UUID]] = set(members)
        self.quotas: dict[uuid.UUID, int] = dict(quotas or {})
        self.fail_on: dict[SideEffect, Exception] = {}

    async def run(
        self,
        tenant_id: uuid.UUID,
        work: Callable[[TaskTransaction], Awaitable[T]],
        *,
        readonly: bool = False,
    ) -> T:
        """``work`` on copies of the rows in ``tenant_scope(tenant_id)``; kept only if it returns."""
        transaction = _FakeTaskTransaction(
            self, {task_id: _copy(task) for task_id, task in self.rows.items()}, tenant_id
        )
        with tenant_scope(tenant_id):
            result = await work(transaction)
        if not readonly:
            # The store object stays the same dict, so a test's reference to it sees the commit.
            self.rows.clear()
            self.rows.update(transaction.rows)
            self.changes.extend(transaction.changes)
            if transaction.created:
                self.usage[tenant_id] += transaction.created
        return result

    async def is_member(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """Whether ``(tenant_id, user_id)`` is in ``members``."""
        return (tenant_id, user_id) in self.members
