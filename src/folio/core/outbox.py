"""The transactional outbox: events written with the change that causes them, delivered to named consumers.

A context publishes with ``add_outbox_event`` (or ``add_outbox_events`` for a batch)
on the session of the unit of work that makes the change, so an event exists if and
only if its change committed. A consumer (the search sync, say) follows the topics it
subscribed to with ``claim_events`` / ``ack_events`` / ``fail_event``.

Tables (``docs/architecture.md`` has the picture):

- ``outbox_events``: the events, append-only: topic, key, type, schema version, JSON
  payload, the shop (when the event belongs to one), when, and the correlation id of
  the request that caused it. Payloads should carry ids, not state: a consumer reads
  the current state when it applies an event, which makes applying twice harmless.
- ``outbox_consumers``: who follows which topic, one row per (consumer, topic).
- ``outbox_deliveries``: one row per event per subscribed consumer, written in the
  publishing transaction (fan-out on write) and deleted when the consumer acknowledges
  the event. While it exists it holds that consumer's state for that event: attempts,
  the last error, when it may be retried, and whether it was set aside as poisoned.

Why delivery rows rather than a per-consumer cursor (the last id it has seen): ids
come from a sequence and are taken when a row is inserted, not when it commits. On
PostgreSQL a transaction holding id 10 can commit after one holding id 11, so a cursor
that moved past 11 would skip 10 for ever. A delivery row becomes visible in the same
commit as its event, so nothing is skipped whatever the commit order, on both
backends, with no clock or snapshot tricks. It also puts each consumer's retry state
beside its own events, which is what lets two consumers of one topic progress, fail
and retry independently. The cost is one more row per event per consumer, deleted on
acknowledgement, so ``outbox_deliveries`` stays as small as the backlog.

Key contracts:

- **Subscribing.** A consumer receives the events published *after* its subscription
  committed (``subscribe_consumer``, idempotent); a consumer that must see everything
  from the start is subscribed by the migration that creates its topic's first events
  (``0011_outbox`` subscribes ``search`` to ``catalog``).
- **At least once, in order.** ``claim_events`` hands a consumer its due events in id
  order; it takes no lock that outlives its transaction, so a crash between applying
  and ``ack_events`` hands the same events out again. Consumers apply idempotently and
  run one process per consumer name (two would apply the same events twice: wasted
  work, never lost events).
- **Retries and poison.** ``fail_event`` counts an attempt and keeps the error; the
  consumer's ``RetryPolicy`` decides when the event is due again (exponential backoff)
  and after how many attempts it is *poisoned*: set aside, with its last error, for
  that consumer only. A poisoned event is never claimed again and blocks none of the
  consumer's later events; other consumers of it are unaffected.
- **Operators** see each consumer's backlog with ``consumer_status`` (pending, waiting
  for a retry, poisoned) and the poisoned events with their errors with ``list_poisoned``.

The mail queue (``folio.mail``) does not use this outbox, on purpose: a ``mail_outbox``
row is not an event that several consumers react to, it *is* the message, with its
own per-message delivery state (``sent_at``), read back by developers in the dev mail
viewer and by the delivery loop alone. Moving it here would split one message over an
event, its payload and a delivery row for no second consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import structlog
from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from folio.core.columns import JsonDocument, UtcDateTime, utcnow
from folio.core.db import Base, Database, note_after_commit
from folio.core.errors import FolioError
from folio.core.logging.context import correlation_id, trace_id_from
from folio.core.telemetry import current_traceparent

__all__ = [
    "ClaimedEvent",
    "ConsumerStatus",
    "EventDraft",
    "OutboxConsumer",
    "OutboxDelivery",
    "OutboxEvent",
    "RelayLoop",
    "RelayReport",
    "RetryPolicy",
    "ack_events",
    "add_outbox_event",
    "add_outbox_events",
    "claim_events",
    "consumer_status",
    "count_pending",
    "fail_event",
    "list_poisoned",
    "requeue_poisoned",
    "subscribe_consumer",
]

log = structlog.get_logger(__name__)

MAX_ERROR_CHARS = 10_000
"""The longest ``last_error`` kept (a stack trace, not a dump of the payload)."""

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT sequence.
_EventId = BigInteger().with_variant(Integer(), "sqlite")


class OutboxEvent(Base):
    """One published event (append-only; no row-level security: see ``tenant_id``)."""

    __tablename__ = "outbox_events"
    # Readers that pick events by kind (the catalogue's shops with listings) filter on both.
    __table_args__ = (Index("ix_outbox_events_topic_type", "topic", "type"),)

    id: Mapped[int] = mapped_column(_EventId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(60))
    key: Mapped[str | None] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(100))
    schema_version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    # The shop the event concerns, for consumers to scope their reads by; the table is
    # not under row-level security (consumers read every shop's events), so payloads
    # hold ids, never a shop's data.
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    correlation_id: Mapped[str | None] = mapped_column(String(128))
    # The writing span's trace and its W3C traceparent (``folio.core.telemetry``): the relay's
    # publish, later and in another process, continues the request's trace below that span.
    trace_id: Mapped[str | None] = mapped_column(String(32))
    traceparent: Mapped[str | None] = mapped_column(String(55))


class OutboxConsumer(Base):
    """One subscription: consumer ``name`` receives the events of ``topic`` published after ``created_at``."""

    __tablename__ = "outbox_consumers"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    topic: Mapped[str] = mapped_column(String(60), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class OutboxDelivery(Base):
    """One event one consumer has not acknowledged yet: its attempts, last error, next try, poison mark."""

    __tablename__ = "outbox_deliveries"

    # (consumer, event_id) is also the claim order: the primary key's index serves it.
    consumer: Mapped[str] = mapped_column(String(60), primary_key=True)
    event_id: Mapped[int] = mapped_column(
        # Indexed on its own too: pruning old events cascades here by event id.
        _EventId,
        ForeignKey("outbox_events.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    poisoned_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class EventDraft:
    """An event to publish (``add_outbox_events``); the arguments of ``add_outbox_event``."""

    topic: str
    key: str | None
    type: str
    payload: dict[str, Any]
    schema_version: int = 1
    tenant_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ClaimedEvent:
    """An event as one consumer sees it: the event, and that consumer's attempts and last error."""

    id: int
    topic: str
    key: str | None
    type: str
    schema_version: int
    payload: dict[str, Any]
    tenant_id: uuid.UUID | None
    created_at: dt.datetime
    correlation_id: str | None
    trace_id: str | None
    attempts: int
    last_error: str | None
    traceparent: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """How one consumer retries an event that failed, and when it gives up on it.

    After the ``n``-th failure the event is due again ``first_backoff_s * 2 ** (n - 1)``
    seconds later (at most ``max_backoff_s``); the ``max_attempts``-th failure poisons
    it. A ``first_backoff_s`` of 0 retries at the next claim: for a consumer that backs
    off as a whole instead (the search sync waits out an engine outage before claiming).
    """

    max_attempts: int = 5
    first_backoff_s: float = 1.0
    max_backoff_s: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.first_backoff_s < 0 or self.max_backoff_s < self.first_backoff_s:
            raise ValueError(f"an impossible retry policy: {self}")

    def backoff_s(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failure before the event is due again."""
        return min(self.first_backoff_s * 2.0 ** max(attempts - 1, 0), self.max_backoff_s)


@dataclass(frozen=True)
class ConsumerStatus:
    """One consumer's backlog: what an operator checks first."""

    name: str
    topics: tuple[str, ...]
    pending: int
    """Events not yet acknowledged nor poisoned (``retrying`` included)."""
    retrying: int
    """Pending events that failed at least once."""
    poisoned: int
    """Events set aside after ``max_attempts`` failures (``list_poisoned`` shows them)."""
    oldest_pending_at: dt.datetime | None


# --- publishing ------------------------------------------------------------------------------


async def add_outbox_event(
    session: AsyncSession,
    *,
    topic: str,
    key: str | None,
    type: str,  # noqa: A002 - the event's type is the natural name of the field
    payload: dict[str, Any],
    schema_version: int = 1,
    tenant_id: uuid.UUID | None = None,
) -> None:
    """Publish one event in the caller's transaction: it commits, or not, with the caller's change.

    ``payload`` must be JSON-serialisable; see ``add_outbox_events``.
    """
    await add_outbox_events(
        session,
        [
            EventDraft(
                topic=topic,
                key=key,
                type=type,
                payload=payload,
                schema_version=schema_version,
                tenant_id=tenant_id,
            )
        ],
    )


async def add_outbox_events(session: AsyncSession, drafts: Sequence[EventDraft]) -> None:
    """Publish ``drafts`` in the caller's transaction, in order (ids ascend as the drafts do).

    Two statements whatever the batch size (the events, then one delivery row per
    event per consumer subscribed to its topic now), so a bulk writer can publish a
    thousand events per batch. The correlation id of the current log context is
    recorded with each event. The drafts are also the unit's after-commit notes
    (``folio.core.db.note_after_commit``): the process's own listeners hear of them
    as soon as the unit commits, before any consumer claims them.
    """
    if not drafts:
        return
    note_after_commit(session, *drafts)
    now = utcnow()
    correlation = correlation_id()
    traceparent = current_traceparent()
    rows = [
        {
            "topic": draft.topic,
            "key": draft.key,
            "type": draft.type,
            "schema_version": draft.schema_version,
            "payload": draft.payload,
            "tenant_id": draft.tenant_id,
            "created_at": now,
            "correlation_id": correlation,
            "trace_id": trace_id_from(traceparent),
            "traceparent": traceparent,
        }
        for draft in drafts
    ]
    inserted = await session.execute(
        insert(OutboxEvent).returning(OutboxEvent.id, sort_by_parameter_order=True), rows
    )
    event_ids = list(inserted.scalars())
    fan_out = (
        select(OutboxConsumer.name, OutboxEvent.id, literal(0))
        .join(OutboxEvent, OutboxEvent.topic == OutboxConsumer.topic)
        .where(OutboxEvent.id.in_(event_ids))
    )
    await session.execute(
        insert(OutboxDelivery).from_select(
            [OutboxDelivery.consumer, OutboxDelivery.event_id, OutboxDelivery.attempts], fan_out
        )
    )


async def subscribe_consumer(db: Database, *, consumer: str, topic: str) -> None:
    """Make ``consumer`` receive the ``topic`` events published from now on (idempotent).

    Events published before the subscription committed are not delivered to it: a
    consumer that needs them is subscribed by a migration, before any exist.
    """

    async def work(session: AsyncSession) -> None:
        if await session.get(OutboxConsumer, (consumer, topic)) is None:
            session.add(OutboxConsumer(name=consumer, topic=topic, created_at=utcnow()))

    await db.run(work)


# --- consuming -------------------------------------------------------------------------------


def _claimed(event: OutboxEvent, delivery: OutboxDelivery) -> ClaimedEvent:
    return ClaimedEvent(
        id=event.id,
        topic=event.topic,
        key=event.key,
        type=event.type,
        schema_version=event.schema_version,
        payload=event.payload,
        tenant_id=event.tenant_id,
        created_at=event.created_at,
        correlation_id=event.correlation_id,
        trace_id=event.trace_id,
        attempts=delivery.attempts,
        last_error=delivery.last_error,
        traceparent=event.traceparent,
    )


async def claim_events(
    db: Database, *, consumer: str, limit: int, topic: str | None = None, now: dt.datetime | None = None
) -> list[ClaimedEvent]:
    """Up to ``limit`` of ``consumer``'s due events (of ``topic``, when given), in id order.

    Due: not acknowledged, not poisoned, and past the backoff of its last failure
    (``now`` defaults to the current time; tests pass their own). A plain read: see the
    module docstring for what at least once means here.
    """
    moment = now or utcnow()

    async def work(session: AsyncSession) -> list[ClaimedEvent]:
        statement = (
            select(OutboxEvent, OutboxDelivery)
            .join(OutboxDelivery, OutboxDelivery.event_id == OutboxEvent.id)
            .where(
                OutboxDelivery.consumer == consumer,
                OutboxDelivery.poisoned_at.is_(None),
                or_(OutboxDelivery.next_attempt_at.is_(None), OutboxDelivery.next_attempt_at <= moment),
            )
            .order_by(OutboxDelivery.event_id)
            .limit(limit)
        )
        if topic is not None:
            statement = statement.where(OutboxEvent.topic == topic)
        return [_claimed(event, delivery) for event, delivery in (await session.execute(statement)).all()]

    # Not readonly: a replica could lag behind an event the caller just committed.
    return await db.run(work)


async def ack_events(db: Database, *, consumer: str, event_ids: Sequence[int]) -> None:
    """Record that ``consumer`` applied ``event_ids``: they are never handed to it again."""
    if not event_ids:
        return

    async def work(session: AsyncSession) -> None:
        await session.execute(
            delete(OutboxDelivery).where(
                OutboxDelivery.consumer == consumer, OutboxDelivery.event_id.in_(list(event_ids))
            )
        )

    await db.run(work)


async def fail_event(
    db: Database,
    *,
    consumer: str,
    event_id: int,
    error: str,
    retry: RetryPolicy,
    now: dt.datetime | None = None,
) -> bool:
    """Count a failed attempt of ``consumer`` at ``event_id``, keep ``error``; True when that poisoned it.

    The event is due again after ``retry.backoff_s(attempts)``, or set aside for good
    (for this consumer only) once it has failed ``retry.max_attempts`` times. An event
    the consumer already acknowledged is left alone (False).
    """
    moment = now or utcnow()

    async def work(session: AsyncSession) -> bool:
        delivery = await session.get(OutboxDelivery, (consumer, event_id))
        if delivery is None:
            return False
        delivery.attempts += 1
        delivery.last_error = error[:MAX_ERROR_CHARS]
        if delivery.attempts >= retry.max_attempts:
            delivery.poisoned_at = moment
            return True
        delivery.next_attempt_at = moment + dt.timedelta(seconds=retry.backoff_s(delivery.attempts))
        return False

    return await db.run(work)


# --- what an operator sees -------------------------------------------------------------------


async def count_pending(db: Database, *, consumer: str, topic: str | None = None) -> int:
    """How many of ``consumer``'s events (of ``topic``, when given) wait: due or backing off, not poisoned."""

    async def work(session: AsyncSession) -> int:
        statement = (
            select(func.count())
            .select_from(OutboxDelivery)
            .where(OutboxDelivery.consumer == consumer, OutboxDelivery.poisoned_at.is_(None))
        )
        if topic is not None:
            statement = statement.join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id).where(
                OutboxEvent.topic == topic
            )
        return int((await session.execute(statement)).scalar_one())

    return await db.run(work)


async def list_poisoned(db: Database, *, consumer: str, limit: int = 100) -> list[ClaimedEvent]:
    """The events ``consumer`` set aside, oldest first, each with its attempts and last error."""

    async def work(session: AsyncSession) -> list[ClaimedEvent]:
        statement = (
            select(OutboxEvent, OutboxDelivery)
            .join(OutboxDelivery, OutboxDelivery.event_id == OutboxEvent.id)
            .where(OutboxDelivery.consumer == consumer, OutboxDelivery.poisoned_at.is_not(None))
            .order_by(OutboxDelivery.event_id)
            .limit(limit)
        )
        return [_claimed(event, delivery) for event, delivery in (await session.execute(statement)).all()]

    return await db.run(work, readonly=True)


async def requeue_poisoned(db: Database, *, consumer: str, event_ids: Sequence[int] = ()) -> int:
    """Put events ``consumer`` set aside back in its queue, with fresh attempts; how many moved.

    ``event_ids`` names the events (those not poisoned for ``consumer`` are left alone);
    empty means every poisoned event of ``consumer``. The operator's answer once the
    cause is fixed: the events are claimed again, in id order, on the consumer's next round.
    """

    async def work(session: AsyncSession) -> int:
        statement = (
            update(OutboxDelivery)
            .where(OutboxDelivery.consumer == consumer, OutboxDelivery.poisoned_at.is_not(None))
            .values(poisoned_at=None, attempts=0, next_attempt_at=None)
        )
        if event_ids:
            statement = statement.where(OutboxDelivery.event_id.in_(event_ids))
        result = await session.execute(statement)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    return await db.run(work)


async def consumer_status(db: Database) -> list[ConsumerStatus]:
    """Every subscribed consumer's backlog, by name (a consumer with nothing pending shows zeros)."""

    async def work(session: AsyncSession) -> list[ConsumerStatus]:
        topics: dict[str, list[str]] = {}
        subscriptions = select(OutboxConsumer.name, OutboxConsumer.topic).order_by(
            OutboxConsumer.name, OutboxConsumer.topic
        )
        for name, topic in (await session.execute(subscriptions)).all():
            topics.setdefault(name, []).append(topic)
        waiting = OutboxDelivery.poisoned_at.is_(None)
        counts = (
            select(
                OutboxDelivery.consumer,
                func.sum(case((waiting, 1), else_=0)),
                func.sum(case((waiting & (OutboxDelivery.attempts > 0), 1), else_=0)),
                func.sum(case((waiting, 0), else_=1)),
                func.min(case((waiting, OutboxEvent.created_at), else_=None)),
            )
            .join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id)
            .group_by(OutboxDelivery.consumer)
        )
        found = {row[0]: row[1:] for row in (await session.execute(counts)).all()}
        statuses = []
        for name in sorted(set(topics) | set(found)):
            pending, retrying, poisoned, oldest = found.get(name, (0, 0, 0, None))
            statuses.append(
                ConsumerStatus(
                    name=name,
                    topics=tuple(topics.get(name, ())),
                    pending=int(pending or 0),
                    retrying=int(retrying or 0),
                    poisoned=int(poisoned or 0),
                    oldest_pending_at=oldest,
                )
            )
        return statuses

    return await db.run(work, readonly=True)


@dataclass
class RelayReport:
    """What one round of an outbox relay did."""

    claimed: int = 0
    published: int = 0
    failed: int = 0
    broker_down: bool = False
    errors: list[str] = field(default_factory=list)


def _reason(exc: Exception) -> str:
    return (exc.detail or exc.title) if isinstance(exc, FolioError) else str(exc)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


class RelayLoop(ABC):
    """The loop of a relay from the outbox to a broker: subscribe, then rounds under a lock, with backoff.

    A relay (RabbitMQ's ``folio.messaging``, Kafka's ``folio.streaming``) implements
    ``subscribe`` (idempotent: subscribe its outbox consumer, create what the broker
    needs) and ``run_once`` (one claimed batch published, the delivered events
    acknowledged); ``run_forever`` is the same for both:

    - ``subscribe`` is retried (doubling from ``MIN_BACKOFF_S`` to ``MAX_BACKOFF_S``)
      until it succeeds; only ``OUTAGES`` are retried, anything else is a bug and raises;
    - rounds run at once while a batch came back full, every ``poll_interval_s`` when
      idle, and back off (the same doubling) while ``run_once`` reports ``broker_down``
      or raises one of ``OUTAGES`` (the database down);
    - with ``exclusive`` (a lock), rounds run only while it is held, so one relay of
      several processes works at a time; a standby tries again every ``standby_s`` and
      says so once at info (``<LOG_NAME>.standby``), or at warning when the lock's own
      service fails rather than being busy (a 409). ``<LOG_NAME>.active`` marks the turn.
    """

    MIN_BACKOFF_S: ClassVar[float] = 0.5
    MAX_BACKOFF_S: ClassVar[float] = 30.0
    LOG_NAME: ClassVar[str] = "relay"
    """The prefix of the loop's log events (``relay.active``)."""
    OUTAGES: ClassVar[tuple[type[Exception], ...]] = (FolioError,)
    """What an unreachable database or broker raises: waited out, never fatal."""

    db: Database
    consumer: str
    topics: tuple[str, ...]
    batch_size: int
    _backoff_s: float = 0.0

    def _event(self, what: str) -> str:
        return f"{self.LOG_NAME}.{what}"

    async def claim_batch(self) -> list[ClaimedEvent]:
        """Claim up to ``batch_size`` events of the relay's topics, topic by topic in their order.

        Only the configured ``topics``: one the consumer is subscribed to but the relay
        was not told to carry waits in the outbox.
        """
        events: list[ClaimedEvent] = []
        for topic in self.topics:
            room = self.batch_size - len(events)
            if room > 0:
                events += await claim_events(self.db, consumer=self.consumer, topic=topic, limit=room)
        return events

    @abstractmethod
    async def subscribe(self) -> None:
        """Subscribe the relay's outbox consumer and prepare the broker (idempotent)."""

    @abstractmethod
    async def run_once(self) -> RelayReport:
        """Claim one batch, publish it, acknowledge what the broker confirmed."""

    async def run_forever(
        self,
        *,
        stop: asyncio.Event,
        poll_interval_s: float = 0.5,
        exclusive: Callable[[], AbstractAsyncContextManager[object]] | None = None,
        standby_s: float = 5.0,
    ) -> None:
        """Relay until ``stop`` is set (see the class docstring).

        ``exclusive`` is a lock's context (``lambda: locks.hold(name, wait_s=0)``: one try
        per standby round), held while relaying.
        """
        await self._retrying(self.subscribe, stop)
        standing_by = False
        while not stop.is_set():
            if exclusive is None:
                await self._relay(stop, poll_interval_s)
                return
            try:
                async with exclusive():
                    log.info(self._event("active"), resumed_after_standby=standing_by)
                    standing_by = False
                    await self._relay(stop, poll_interval_s)
            except self.OUTAGES as exc:  # held elsewhere (409), the lock service down, the lease lost
                # Busy is the standby's normal (another relay holds it): said once, not every round.
                busy = isinstance(exc, FolioError) and exc.status == 409  # noqa: PLR2004
                if not busy:
                    log.warning(self._event("standby"), reason=_reason(exc))
                elif not standing_by:
                    log.info(self._event("standby"), reason=_reason(exc), retry_every_s=standby_s)
                standing_by = True
                await _pause(stop, standby_s)

    async def _relay(self, stop: asyncio.Event, poll_interval_s: float) -> None:
        while not stop.is_set():
            try:
                report = await self.run_once()
            except self.OUTAGES as exc:  # the database is down: wait and try again
                log.warning(self._event("round_failed"), error=_reason(exc))
                report = RelayReport(broker_down=True)
            if report.broker_down:
                self._backoff_s = min(max(self._backoff_s * 2, self.MIN_BACKOFF_S), self.MAX_BACKOFF_S)
            else:
                self._backoff_s = 0.0
            busy = report.claimed >= self.batch_size and not report.failed
            wait = self._backoff_s or (0.0 if busy else poll_interval_s)
            if wait:
                await _pause(stop, wait)

    async def _retrying(self, step: Callable[[], Awaitable[None]], stop: asyncio.Event) -> None:
        pause = self.MIN_BACKOFF_S
        while not stop.is_set():
            try:
                await step()
            except self.OUTAGES as exc:
                log.warning(self._event("subscribe_failed"), error=_reason(exc), retry_in_s=pause)
                await _pause(stop, pause)
                pause = min(pause * 2, self.MAX_BACKOFF_S)
            else:
                return
