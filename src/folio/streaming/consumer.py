"""Consumer stages in groups: at least once, offsets committed after the effect, bad records dead-lettered.

A stage (the transform, the sink) is a ``StreamConsumer`` in a consumer group and a
handler. Each round (``run_batch``):

1. poll up to ``batch_size`` records from the partitions the group gave this member;
2. decode each (``folio.streaming.envelope``) and check its payload against its schema
   (``folio.streaming.event_schemas``); a record that fails either is a **bad record**
   and is never handed to the handler;
3. hand the good records, in partition order, to the handler, which writes its effect
   (a database transaction, records produced and confirmed) before it returns, and
   names the records it refuses outright (``Rejected``): bad records too;
4. send the bad records to the dead-letter topic (key, value and headers, plus
   ``dlq-reason``, ``dlq-stage``, ``dlq-topic``, ``dlq-partition``, ``dlq-offset``),
   confirmed by the broker: a bad record never blocks its partition;
5. only then **commit** the next offsets, synchronously; a handler that keeps records'
   effects in memory for a while (the windows stage) gives a ``CommitPosition`` that caps
   each partition's commit at its ``safe_offsets``, so a restart reads those records again.

So a crash anywhere before the commit re-reads the batch (the effect may be written
twice: handlers are idempotent, the sink upserts by event id) and a crash after it
loses nothing. When the handler or the dead-letter publish fails, the member seeks
back to the batch's first offsets and tries again after a pause (doubling to
``MAX_BACKOFF_S``): nothing is skipped. A commit refused because the group rebalanced
(the partitions now belong to another member) is logged: that member re-reads from the
last committed offset, and the duplicates are absorbed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import structlog
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from folio.core.errors import FolioError
from folio.core.telemetry import traced_batch
from folio.streaming.envelope import (
    Headers,
    OutgoingRecord,
    StreamRecord,
    UndecodableRecordError,
    decode_record,
)
from folio.streaming.event_schemas import EventSchemas, SchemaViolationError
from folio.streaming.metrics import record_batch, record_handled
from folio.streaming.producer import DeliveryError, EventProducer

__all__ = [
    "BatchReport",
    "CommitPosition",
    "RecordHandler",
    "Rejected",
    "StreamConsumer",
    "commit_offsets",
    "consumer_config",
]

log = structlog.get_logger(__name__)

RecordHandler = Callable[[list[StreamRecord]], Awaitable[list["Rejected"]]]
"""Writes the effect of a batch of good records and returns only once it is durable (or raises a
``FolioError``, ``DeliveryError`` or ``OSError`` to have the batch tried again); returns the records it
refused outright, which are dead-lettered like the bad ones."""


@dataclass(frozen=True)
class Rejected:
    """A record a handler refuses for good (its content, not an outage), and why."""

    record: StreamRecord
    reason: str


Partition = tuple[str, int]
"""``(topic, partition)``."""


class CommitPosition(Protocol):
    """A handler whose effect of some records is not durable yet when it returns (held in memory).

    ``safe_offsets`` names, per partition, the first offset whose effect is not durable
    (or the next offset when all are): the consumer never commits past it, so after a
    crash those records are read again and their effect rebuilt. It is asked after each
    batch; a partition it does not name is committed as usual.
    """

    def safe_offsets(self) -> Mapping[Partition, int]:
        """Per partition, the offset from which a restart must read again."""
        ...


def commit_offsets(
    last: Mapping[Partition, int], safe: Mapping[Partition, int], assigned: set[Partition]
) -> dict[Partition, int]:
    """The offsets to commit after a batch: one past its ``last`` record, or a lower ``safe`` offset.

    A partition absent from the batch is committed at its ``safe`` offset while it is
    still ``assigned`` (its windows may have closed meanwhile); never one given away.
    """
    positions = {place: offset + 1 for place, offset in last.items()}
    for place, offset in safe.items():
        if place in positions or place in assigned:
            positions[place] = min(positions.get(place, offset), offset)
    return positions


def consumer_config(
    bootstrap_servers: str, *, group: str, session_timeout_ms: int, heartbeat_interval_ms: int
) -> dict[str, Any]:
    """A group member's librdkafka settings: manual commits, from the earliest offset, committed reads."""
    return {
        "bootstrap.servers": bootstrap_servers,
        "group.id": group,
        "client.id": group,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": session_timeout_ms,
        "heartbeat.interval.ms": heartbeat_interval_ms,
        # What a transactional producer's aborted records need; see docs/events.md for Tansu.
        "isolation.level": "read_committed",
        "log.connection.close": False,
    }


@dataclass
class BatchReport:
    """What one round did."""

    polled: int = 0
    handled: int = 0
    dead_lettered: int = 0
    committed: bool = False
    errors: list[str] = field(default_factory=list)


@dataclass
class _Sorted:
    """One poll's records, decoded: the handler's, the dead letters, and the offsets they span."""

    first: dict[tuple[str, int], int] = field(default_factory=dict)
    last: dict[tuple[str, int], int] = field(default_factory=dict)
    good: list[StreamRecord] = field(default_factory=list)
    bad: list[OutgoingRecord] = field(default_factory=list)
    by_place: dict[tuple[str, int, int], Message] = field(default_factory=dict)
    polled: int = 0


class StreamConsumer:
    """One member of a consumer group running one stage (see the module docstring)."""

    MIN_BACKOFF_S: ClassVar[float] = 0.5
    MAX_BACKOFF_S: ClassVar[float] = 30.0

    def __init__(
        self,
        config: dict[str, Any],
        *,
        topics: Sequence[str],
        schemas: EventSchemas,
        dead_letters: EventProducer,
        dead_letter_topic: str,
        batch_size: int = 200,
        poll_timeout_s: float = 1.0,
        fill_batch: bool = False,
    ) -> None:
        """A member of ``config``'s group; connects on its first batch.

        A batch is up to ``batch_size`` records. By default it is what has arrived once
        the first record has (waiting up to ``poll_timeout_s`` for that one), so a quiet
        topic's records pass at once; with ``fill_batch`` a poll waits up to
        ``poll_timeout_s`` for the batch to fill (the lake's files: fewer, larger).
        """
        self.config = dict(config)
        self.stage = str(config["group.id"])
        self.topics = list(topics)
        self.schemas = schemas
        self.dead_letters = dead_letters
        self.dead_letter_topic = dead_letter_topic
        self.batch_size = batch_size
        self.poll_timeout_s = poll_timeout_s
        self.fill_batch = fill_batch
        self._consumer: Consumer | None = None
        self._backoff_s = 0.0

    def _take(self) -> list[Message]:
        """The next batch (see ``__init__``): blocks up to ``poll_timeout_s``."""
        consumer = self._client()
        if self.fill_batch:
            return list(consumer.consume(self.batch_size, self.poll_timeout_s))
        first = consumer.poll(self.poll_timeout_s)
        if first is None:
            return []
        return [first, *consumer.consume(self.batch_size - 1, 0)] if self.batch_size > 1 else [first]

    def _client(self) -> Consumer:
        if self._consumer is None:
            self._consumer = Consumer(self.config)
            self._consumer.subscribe(self.topics)
        return self._consumer

    async def run_batch(
        self, handle: RecordHandler, *, position: CommitPosition | None = None
    ) -> BatchReport:
        """Poll, dead-letter the bad, handle the good, commit: one round (see the module docstring).

        ``position``, when given, caps the commit (``CommitPosition``).
        """
        messages = await asyncio.to_thread(self._take)
        report = BatchReport()
        batch = self._sort(messages)
        first, last, good, bad, by_place = batch.first, batch.last, batch.good, batch.bad, batch.by_place
        report.polled = batch.polled
        if not report.polled:
            return report
        started = time.monotonic()
        rejected: list[Rejected] = []
        try:
            if good:
                with self._traced(good):
                    rejected = await handle(good)
                report.handled = len(good) - len(rejected)
                bad += [
                    self._dead_letter(
                        by_place[(item.record.topic, item.record.partition, item.record.offset)],
                        reason=item.reason,
                    )
                    for item in rejected
                ]
            if bad:
                outcomes = await self.dead_letters.send(bad)
                refused = next((outcome for outcome in outcomes if outcome is not None), None)
                if refused is not None:
                    raise refused
                report.dead_lettered = len(bad)
                log.warning("stream.dead_lettered", stage=self.stage, count=len(bad), reason=_reason(bad[0]))
        except (FolioError, DeliveryError, OSError) as exc:  # the database or the broker: try the batch again
            report.errors.append(f"{type(exc).__name__}: {exc}")
            log.warning(
                "stream.batch_failed", stage=self.stage, error=report.errors[-1], polled=report.polled
            )
            await asyncio.to_thread(self._rewind, first)
            self._count_retried(messages)
            return report
        safe = position.safe_offsets() if position is not None else {}
        positions = commit_offsets(last, safe, self.assigned() if safe else set())
        report.committed = await asyncio.to_thread(self._commit, positions)
        self._count_done(good, rejected, bad, time.monotonic() - started)
        return report

    def _sort(self, messages: list[Message]) -> _Sorted:
        """Decode and check each polled record: the good ones, the bad ones (as dead letters), the offsets."""
        batch = _Sorted()
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:  # noqa: SLF001 - librdkafka's local code
                    log.warning("stream.consume_error", stage=self.stage, error=str(error))
                continue
            topic, partition, offset = (
                str(message.topic()),
                int(message.partition() or 0),
                int(message.offset() or 0),
            )
            batch.first.setdefault((topic, partition), offset)
            batch.last[(topic, partition)] = offset
            batch.polled += 1
            try:
                record = decode_record(
                    topic=topic,
                    partition=partition,
                    offset=offset,
                    key=message.key(),
                    value=message.value(),
                    headers=message.headers(),
                )
                self.schemas.check(record.family, record.type, record.schema_version, record.payload)
            except (UndecodableRecordError, SchemaViolationError) as exc:
                batch.bad.append(self._dead_letter(message, reason=str(exc)))
            else:
                batch.good.append(record)
                batch.by_place[(topic, partition, offset)] = message
        return batch

    def _count_done(
        self, good: list[StreamRecord], rejected: list[Rejected], bad: list[OutgoingRecord], seconds: float
    ) -> None:
        """Count a committed batch: its handled records (with their age), its dead letters, its time."""
        set_aside = {(item.record.topic, item.record.partition, item.record.offset) for item in rejected}
        for record in good:
            if (record.topic, record.partition, record.offset) not in set_aside:
                record_handled(self.stage, record.topic, record.occurred_at)
        now = dt.datetime.now(dt.UTC)
        for item in bad:
            record_handled(self.stage, _header(item, "dlq-topic"), now, outcome="dead_lettered")
        record_batch(self.stage, seconds)

    def _count_retried(self, messages: list[Message]) -> None:
        """Count a failed batch's records as retried (they are read again)."""
        now = dt.datetime.now(dt.UTC)
        for message in messages:
            if message.error() is None:
                record_handled(self.stage, str(message.topic()), now, outcome="retried")

    def _traced(self, records: list[StreamRecord]) -> contextlib.AbstractContextManager[object]:
        """The batch's span, below the first traced record's producer; each other trace gets a receive span.

        A batch none of whose records is traced starts no trace.
        """
        traceparents = [record.traceparent for record in records]
        if not any(traceparents):
            return contextlib.nullcontext()
        return traced_batch(
            f"{self.stage} process",
            traceparents,
            receive_name=f"{self.stage} receive",
            attributes={"messaging.system": "kafka", "messaging.consumer.group.name": self.stage},
        )

    def _dead_letter(self, message: Message, *, reason: str) -> OutgoingRecord:
        original = message.headers() or []
        headers: Headers = list(original.items() if isinstance(original, dict) else original)
        where = (str(message.topic()), str(message.partition()), str(message.offset()))
        headers += [
            ("dlq-reason", reason[:2000].encode()),
            ("dlq-stage", self.stage.encode()),
            ("dlq-topic", where[0].encode()),
            ("dlq-partition", where[1].encode()),
            ("dlq-offset", where[2].encode()),
        ]
        key = message.key()
        return OutgoingRecord(
            topic=self.dead_letter_topic,
            key=(key or b"").decode(errors="replace"),
            value=message.value() or b"",
            headers=headers,
            event_id="/".join(where),
        )

    def _rewind(self, first: dict[tuple[str, int], int]) -> None:
        consumer = self._client()
        for (topic, partition), offset in first.items():
            with contextlib.suppress(KafkaException):  # revoked meanwhile: its new owner reads it
                consumer.seek(TopicPartition(topic, partition, offset))

    def _commit(self, positions: dict[Partition, int]) -> bool:
        offsets = [
            TopicPartition(topic, partition, offset) for (topic, partition), offset in positions.items()
        ]
        try:
            self._client().commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            log.warning("stream.commit_refused", stage=self.stage, error=str(exc))
            return False
        return True

    async def run(
        self, handle: RecordHandler, *, stop: asyncio.Event, position: CommitPosition | None = None
    ) -> None:
        """Run rounds until ``stop`` is set, backing off while a batch keeps failing; then leave the group."""
        try:
            while not stop.is_set():
                report = await self.run_batch(handle, position=position)
                if report.errors:
                    self._backoff_s = min(max(self._backoff_s * 2, self.MIN_BACKOFF_S), self.MAX_BACKOFF_S)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=self._backoff_s)
                else:
                    self._backoff_s = 0.0
        finally:
            await self.close()

    def assigned(self) -> set[tuple[str, int]]:
        """The ``(topic, partition)`` pairs the group gives this member now (empty before it joined)."""
        if self._consumer is None:
            return set()
        return {(str(tp.topic), int(tp.partition)) for tp in self._consumer.assignment()}

    async def close(self) -> None:
        """Leave the group (its partitions go to the other members at once) and close the client."""
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await asyncio.to_thread(consumer.close)


def _header(record: OutgoingRecord, name: str) -> str:
    value = next((value for key, value in record.headers if key == name), b"")
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _reason(record: OutgoingRecord) -> str:
    return _header(record, "dlq-reason")
