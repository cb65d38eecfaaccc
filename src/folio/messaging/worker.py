"""The worker: consumes the registered work queues, applies each message once, retries or dead-letters.

Key contracts:

- **Manual ack, after the effect.** A message is acknowledged only once its handler's
  effect committed with its inbox row (``folio.messaging.inbox``); a worker that dies
  first leaves it unacknowledged, and the broker hands it out again.
- **Requeue or reject by error kind** (``folio.messaging.errors.failure_kind``): a
  transient failure publishes a copy to the retry ladder's next rung (confirmed) and
  acks the original, so the message comes back after the rung's delay; a permanent
  one, or a transient one past the ladder's end, publishes a copy with its error to
  the dead-letter exchange and acks. If that publish fails (the broker is going away)
  the message is returned to its lane instead, and the broker's ``x-delivery-limit``
  dead-letters it once it has been returned too often.
- **Prefetch and concurrency.** Each queue gets a channel with ``messaging.prefetch``
  (per lane); at most ``messaging.concurrency`` messages run at once in the process,
  urgent ones first (``folio.messaging.slots``).
- **Graceful shutdown** (``stop``): the consumers are cancelled (the broker delivers
  nothing more), messages still waiting for a slot are returned at once (nack,
  requeue), in-flight ones get ``messaging.shutdown_grace_s`` to finish and ack; those
  still running then are cancelled (their transaction rolls back) and returned.
- **Tenant scope.** A transactional handler's unit of work runs in the scope of the
  message's tenant (the ``folio-tenant`` header of an outbox event), so row-level
  security shows it that shop's rows and no other's.
- **Periodic jobs** (``registry.every``): every replica's timer fires every interval
  from ``run`` until the stop, and ``rounds`` (``folio.messaging.jobs``) lets a round
  run only when no replica runs the job now or started it within its interval: one
  round per interval across all the replicas, not one per replica.
- **Metrics** (``folio.messaging.metrics``): every delivery a worker finishes with is counted
  per queue by outcome, its handling time observed (the trace id as exemplar) and the
  handlers running counted in flight; ``WorkerStats`` keeps the same counts for this worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.background import Periodic
from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.errors import FolioError
from folio.core.logging.context import accept_correlation_id, request_context
from folio.core.telemetry import Span, mark_error, traced_consume
from folio.core.tenancy import tenant_scope
from folio.messaging.broker import BROKER_ERRORS, Broker
from folio.messaging.envelope import Inbound, failed_copy, inbound
from folio.messaging.errors import MalformedMessageError, failure_kind
from folio.messaging.inbox import prune_inbox, record_message, was_processed
from folio.messaging.jobs import JobRounds
from folio.messaging.metrics import IN_FLIGHT, record_handled, record_handling_time
from folio.messaging.registry import Consumer, HandlerRegistry, PeriodicJob, TransactionalConsumer
from folio.messaging.settings import MessagingSettings
from folio.messaging.slots import PrioritySlots
from folio.messaging.topology import DEAD_LETTER_EXCHANGE, QueuePlan

__all__ = ["Worker", "WorkerStats"]

log = structlog.get_logger(__name__)

PRUNE_EVERY_S = 3_600.0
"""How often a worker forgets inbox rows older than ``messaging.inbox_retention_days``."""
_RECONNECT_FIRST_S = 0.5
_RECONNECT_MAX_S = 30.0


@dataclass
class WorkerStats:
    """What one worker did since it started (logged at shutdown; tests read it)."""

    applied: int = 0
    duplicates: int = 0
    """Messages the inbox already had: redeliveries, and copies the relay published twice."""
    retried: int = 0
    dead_lettered: int = 0
    job_rounds: int = 0
    """Rounds of periodic jobs this worker ran."""
    jobs_skipped: int = 0
    """Job timer fires this worker skipped: another replica's round had the interval (or no lock answered)."""
    returned: int = 0
    """Messages nacked back to their lane: at shutdown, or when a retry could not be published."""


class Worker:
    """Consumes the registry's queues, applying messages to the database (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        broker: Broker,
        registry: HandlerRegistry,
        settings: MessagingSettings,
        *,
        rounds: JobRounds[Any] | None = None,
    ) -> None:
        """``rounds`` keeps a periodic job to one round per interval across replicas (else per replica)."""
        self._db = db
        self._rounds = rounds
        self._broker = broker
        self._registry = registry
        self.settings = settings
        self.stats = WorkerStats()
        self._slots = PrioritySlots(settings.concurrency)
        self._channels: list[AbstractChannel] = []
        self._consumers: list[tuple[AbstractQueue, str]] = []
        self._waiting: set[asyncio.Task[object]] = set()
        self._running: set[asyncio.Task[object]] = set()
        self._stopping = False

    @property
    def in_flight(self) -> int:
        """Messages whose handler is running now."""
        return len(self._running)

    @property
    def waiting(self) -> int:
        """Messages delivered and waiting for a handler slot."""
        return self._slots.waiting

    async def start(self) -> None:
        """Declare every registered queue and start consuming its lanes, urgent first."""
        self._stopping = False
        for consumer in self._registry:
            work = await self._broker.declare(consumer.queue)
            channel = await self._broker.channel(prefetch=self.settings.prefetch)
            self._channels.append(channel)
            for lane in work.lanes:
                queue = await channel.declare_queue(lane, durable=True, arguments=work.lane_arguments())
                callback = partial(self._on_message, consumer, work, lane == work.urgent)
                self._consumers.append((queue, await queue.consume(callback)))
        log.info("worker.started", queues=[consumer.queue.name for consumer in self._registry])

    async def run(self, stop: asyncio.Event) -> None:
        """Start (retrying while the broker is unreachable), consume until ``stop`` is set, then ``stop``.

        Also forgets old inbox rows every ``PRUNE_EVERY_S``, and runs the registry's periodic jobs.
        """
        pruner = Periodic(self._prune, interval_s=PRUNE_EVERY_S, name="messaging-inbox-prune")
        scheduled = [
            Periodic(partial(self._round, job), interval_s=job.interval_s, name=job.name)
            for job in self._registry.jobs
        ]
        for periodic in (pruner, *scheduled):
            periodic.start()
        try:
            pause = _RECONNECT_FIRST_S
            while not stop.is_set():
                try:
                    await self.start()
                    break
                except FolioError as exc:  # the broker is down (or the database, while declaring)
                    log.warning("worker.start_failed", error=exc.detail or exc.title, retry_in_s=pause)
                    await self._close_channels()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=pause)
                    pause = min(pause * 2, _RECONNECT_MAX_S)
            await stop.wait()
        finally:
            await self.stop()
            for periodic in (pruner, *scheduled):
                await periodic.stop(grace_s=self.settings.shutdown_grace_s)

    async def stop(self, *, grace_s: float | None = None) -> None:
        """Stop consuming, return what has not started, let in-flight messages finish within the grace."""
        grace = self.settings.shutdown_grace_s if grace_s is None else grace_s
        self._stopping = True
        for queue, tag in self._consumers:
            with contextlib.suppress(*BROKER_ERRORS):
                await queue.cancel(tag)
        self._consumers = []
        for task in list(self._waiting):
            task.cancel()  # waiting for a slot: returned to the lane by _on_message
        running = set(self._running)
        if running:
            await asyncio.wait(running, timeout=grace)
        for task in self._running:
            task.cancel()  # past the grace period: rolled back and returned
        leftovers = self._waiting | self._running
        if leftovers:
            await asyncio.wait(leftovers, timeout=grace + 5.0)
        await self._close_channels()
        log.info("worker.stopped", **self.stats.__dict__)

    async def _close_channels(self) -> None:
        channels, self._channels = self._channels, []
        for channel in channels:
            with contextlib.suppress(*BROKER_ERRORS):
                await channel.close()

    async def _round(self, job: PeriodicJob) -> None:
        """One round of ``job``, unless ``rounds`` says another replica has this interval's."""
        if self._rounds is None:
            await job.run()
        elif not await self._rounds.run(job):
            self.stats.jobs_skipped += 1
            return
        self.stats.job_rounds += 1

    async def _prune(self) -> None:
        cutoff = utcnow() - dt.timedelta(days=self.settings.inbox_retention_days)
        pruned = await prune_inbox(self._db, older_than=cutoff)
        if pruned:
            log.info("worker.inbox_pruned", rows=pruned)

    async def _on_message(
        self, consumer: Consumer, work: QueuePlan, urgent: bool, message: AbstractIncomingMessage
    ) -> None:
        """aio-pika runs this in a task of its own per delivery."""
        task = asyncio.current_task()
        assert task is not None  # noqa: S101 - aio-pika calls it in a task
        if self._stopping:
            await self._return(work, message)
            return
        self._waiting.add(task)
        try:
            async with self._slots.take(urgent=urgent):
                self._waiting.discard(task)
                self._running.add(task)
                with IN_FLIGHT.labels(work.name).track_inprogress():
                    await self._process(consumer, work, urgent, message)
        except asyncio.CancelledError:
            await self._return(work, message)
            raise
        finally:
            self._waiting.discard(task)
            self._running.discard(task)

    async def _process(
        self, consumer: Consumer, work: QueuePlan, urgent: bool, message: AbstractIncomingMessage
    ) -> None:
        lane = work.urgent if urgent else work.name
        started = time.perf_counter()
        try:
            view = inbound(message, queue=work.name, urgent=urgent)
        except MalformedMessageError as exc:
            await self._fail(work, lane, message, exc, attempt=1)
            record_handling_time(work.name, time.perf_counter() - started)
            return
        with (
            request_context(accept_correlation_id(view.correlation_id)),
            # Below the publisher's span: the work a message causes stays in the trace that sent it.
            traced_consume(
                f"{work.name} process",
                message.headers,
                attributes={"messaging.system": "rabbitmq", "messaging.destination.name": work.name},
            ) as span,
        ):
            try:
                await self._handle(consumer, work, message, lane=lane, view=view, span=span)
            finally:
                # Inside the span: the observation's exemplar names this message's trace.
                record_handling_time(work.name, time.perf_counter() - started)

    async def _handle(
        self,
        consumer: Consumer,
        work: QueuePlan,
        message: AbstractIncomingMessage,
        *,
        lane: str,
        view: Inbound,
        span: Span,
    ) -> None:
        """Apply ``view`` and ack ``message``, or send it on by its failure (``_fail``)."""
        try:
            applied = await self._apply(consumer, view)
        except Exception as exc:  # noqa: BLE001 - every failure is judged by failure_kind
            mark_error(span, f"{type(exc).__name__}: {exc}")
            await self._fail(work, lane, message, exc, attempt=view.attempt)
            return
        if await self._settle(message, ack=True):
            if applied:
                self.stats.applied += 1
                record_handled(work.name, "acked")
            else:
                self.stats.duplicates += 1
                record_handled(work.name, "duplicate")
                log.info("worker.duplicate", queue=work.name, message_id=view.message_id)

    async def _apply(self, consumer: Consumer, message: Inbound) -> bool:
        """Apply ``message`` unless the inbox has it; whether it was applied now."""
        name = consumer.queue.name
        if isinstance(consumer, TransactionalConsumer):
            handle = consumer.handle

            async def unit(session: AsyncSession) -> bool:
                if not await record_message(session, consumer=name, message_id=message.message_id):
                    return False
                await handle(message, session)
                return True

            if message.tenant_id is None:
                return await self._db.run(unit)
            with tenant_scope(message.tenant_id):
                return await self._db.run(unit)
        if await was_processed(self._db, consumer=name, message_id=message.message_id):
            return False
        await consumer.handle(message)
        await self._db.run(partial(record_message, consumer=name, message_id=message.message_id))
        return True

    async def _fail(
        self, work: QueuePlan, lane: str, message: AbstractIncomingMessage, exc: Exception, *, attempt: int
    ) -> None:
        """Send ``message`` to its next rung, or to the dead letters; ack it once the copy is confirmed."""
        kind = failure_kind(exc)
        error = f"{type(exc).__name__}: {exc}"
        rung = work.rung_after(attempt) if kind == "transient" else None
        if rung is not None:
            exchange, routing_key = "", rung.name
        else:
            exchange, routing_key = DEAD_LETTER_EXCHANGE, work.name
        try:
            publisher = await self._broker.publisher()
            await publisher.send(
                failed_copy(message, error=error, return_to=lane), exchange=exchange, routing_key=routing_key
            )
        except FolioError as publish_error:
            log.warning("worker.fail_unpublished", queue=work.name, error=publish_error.detail)
            await self._return(work, message)
            return
        if not await self._settle(message, ack=True):
            return
        if rung is not None:
            self.stats.retried += 1
            record_handled(work.name, "retried")
            log.warning(
                "worker.retry",
                queue=work.name,
                message_id=message.message_id,
                attempt=attempt,
                delay_ms=rung.delay_ms,
                error=error,
            )
        else:
            self.stats.dead_lettered += 1
            record_handled(
                work.name, "invalid" if isinstance(exc, MalformedMessageError) else "dead_lettered"
            )
            log.error(
                "worker.dead_lettered",
                queue=work.name,
                message_id=message.message_id,
                attempt=attempt,
                kind=kind,
                error=error,
            )

    async def _return(self, work: QueuePlan, message: AbstractIncomingMessage) -> None:
        if await self._settle(message, ack=False):
            self.stats.returned += 1
            record_handled(work.name, "returned")

    @staticmethod
    async def _settle(message: AbstractIncomingMessage, *, ack: bool) -> bool:
        """Ack, or nack back to the queue; False when the channel is gone (the broker requeued it itself)."""
        try:
            if ack:
                await message.ack()
            else:
                await message.nack(requeue=True)
        except BROKER_ERRORS as exc:
            log.warning("worker.settle_failed", message_id=message.message_id, ack=ack, error=repr(exc))
            return False
        return True
