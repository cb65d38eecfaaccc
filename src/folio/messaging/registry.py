"""Which handler consumes which work queue: the registry contexts fill from their ``consumers.py``.

A context that reacts to messages declares its queues and handlers in its
``consumers`` adapter, as a *registrar*: a function the worker process calls once
with the registry and the platform (``folio.entrypoints.worker`` lists them)::

    # src/folio/payments/consumers.py
    from folio.core.platform import Platform
    from folio.messaging.api import HandlerRegistry, Inbound, TransientError, WorkQueue

    WEBHOOKS = WorkQueue("payments.webhooks", bindings=("payments.#",))

    def register(registry: HandlerRegistry, platform: Platform) -> None:
        async def deliver(message: Inbound) -> None:
            ...  # POST it; raise TransientError on a 5xx or a timeout
        registry.external(WEBHOOKS, deliver)

Two kinds of handler, by where their effect lands:

- ``transactional``: the effect is database writes. The handler gets the session of
  the unit of work in which the worker records the message in the inbox, and writes
  its effect there and nowhere else: the effect happens **exactly once** however often
  the message is delivered. The unit may run more than once (``Database.run`` retries
  a transient database error), so the handler must not act outside its session.
- ``external``: the effect is outside the database (an HTTP call, a file). The worker
  skips a message the inbox has, runs the handler, then records the message. A worker
  killed between the effect and the record repeats the effect: **at least once**, so
  the receiver must deduplicate (webhook receivers do, by event id).

A registrar may also declare **periodic jobs** (``registry.every(interval_s, name, job)``):
work no message starts, such as a sweep. Every worker process has a timer for each one,
but a round runs only when no replica runs the job now or started it within the last
``interval_s`` (``folio.messaging.jobs``: the lock ``name`` and the claim
``name:last-run``), so the job runs once per interval however many replicas there are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeAlias

from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.platform import Platform
from folio.messaging.envelope import Inbound
from folio.messaging.topology import WorkQueue

__all__ = [
    "Consumer",
    "ExternalConsumer",
    "ExternalHandler",
    "HandlerRegistry",
    "Job",
    "PeriodicJob",
    "Registrar",
    "TransactionalConsumer",
    "TransactionalHandler",
]

TransactionalHandler = Callable[[Inbound, AsyncSession], Awaitable[None]]
"""Writes the message's effect in the session it is handed (the inbox's unit of work), nowhere else."""
ExternalHandler = Callable[[Inbound], Awaitable[None]]
"""Acts outside the database; the worker records the message once it returns."""
Job = Callable[[], Awaitable[object]]
"""A periodic job: connects to what it needs itself, and is safe to run again after a failure."""


@dataclass(frozen=True)
class TransactionalConsumer:
    """A work queue whose handler writes its effect in the inbox's transaction: exactly-once effects."""

    queue: WorkQueue
    handle: TransactionalHandler


@dataclass(frozen=True)
class ExternalConsumer:
    """A work queue whose handler acts outside the database: at-least-once effects."""

    queue: WorkQueue
    handle: ExternalHandler


Consumer: TypeAlias = TransactionalConsumer | ExternalConsumer


@dataclass(frozen=True)
class PeriodicJob:
    """Work run once every ``interval_s`` across the worker replicas, under the locks named after ``name``."""

    name: str
    interval_s: float
    run: Job


class HandlerRegistry:
    """One consumer per work queue, in the order registered."""

    def __init__(self) -> None:
        self._consumers: dict[str, Consumer] = {}
        self._jobs: dict[str, PeriodicJob] = {}

    def transactional(self, queue: WorkQueue, handle: TransactionalHandler) -> None:
        """Consume ``queue`` with ``handle``, whose effect is written in the inbox's transaction."""
        self._add(TransactionalConsumer(queue, handle))

    def external(self, queue: WorkQueue, handle: ExternalHandler) -> None:
        """Consume ``queue`` with ``handle``, whose effect is outside the database."""
        self._add(ExternalConsumer(queue, handle))

    def every(self, interval_s: float, name: str, job: Job) -> None:
        """Run ``job`` once every ``interval_s`` seconds across the worker replicas.

        ``name`` is the round lock's resource too (``"orders:sweeps"``); the first round
        starts one interval after the worker does. A round that raises is logged and the next
        one runs as planned, so ``job`` must be safe to run again.
        """
        if not interval_s > 0:
            raise ValueError(f"a periodic job's interval is positive, not {interval_s}")
        if name in self._jobs:
            raise ValueError(f"the periodic job {name!r} is registered already")
        self._jobs[name] = PeriodicJob(name, interval_s, job)

    @property
    def jobs(self) -> tuple[PeriodicJob, ...]:
        """The periodic jobs, in the order registered."""
        return tuple(self._jobs.values())

    def _add(self, consumer: Consumer) -> None:
        name = consumer.queue.name
        if name in self._consumers:
            raise ValueError(f"the work queue {name!r} has a consumer already")
        self._consumers[name] = consumer

    def __iter__(self) -> Iterator[Consumer]:
        return iter(self._consumers.values())

    def __len__(self) -> int:
        return len(self._consumers)

    def get(self, name: str) -> Consumer | None:
        """The consumer of the work queue ``name``, if one is registered."""
        return self._consumers.get(name)


Registrar = Callable[[HandlerRegistry, Platform], None]
"""A context's ``consumers.register``: adds its queues and handlers; connects to nothing."""
