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
5. only then **commit** the next offsets, synchronously.

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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import structlog
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from folio.core.errors import FolioError
from folio.streaming.envelope import (
    Headers,
    OutgoingRecord,
    StreamRecord,
    UndecodableRecordError,
    decode_record,
)
from folio.streaming.event_schemas import EventSchemas, SchemaViolationError
from folio.streaming.producer import DeliveryError, EventProducer

__all__ = ["BatchReport", "RecordHandler", "Rejected", "StreamConsumer", "consumer_config"]

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
    ) -> None:
        self.config = dict(config)
        self.stage = str(config["group.id"])
        self.topics = list(topics)
        self.schemas = schemas
        self.dead_letters = dead_letters
        self.dead_letter_topic = dead_letter_topic
        self.batch_size = batch_size
        self.poll_timeout_s = poll_timeout_s
        self._consumer: Consumer | None = None
        self._backoff_s = 0.0

    def _client(self) -> Consumer:
        if self._consumer is None:
            self._consumer = Consumer(self.config)
            self._consumer.subscribe(self.topics)
        return self._consumer

    async def run_batch(self, handle: RecordHandler) -> BatchReport:
        """Poll, dead-letter the bad, handle the good, commit: one round (see the module docstring)."""
        consumer = self._client()
        messages: list[Message] = await asyncio.to_thread(
            consumer.consume, self.batch_size, self.poll_timeout_s
        )
        report = BatchReport()
        first: dict[tuple[str, int], int] = {}
        last: dict[tuple[str, int], int] = {}
        good: list[StreamRecord] = []
        bad: list[OutgoingRecord] = []
        by_place: dict[tuple[str, int, int], Message] = {}
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
            first.setdefault((topic, partition), offset)
            last[(topic, partition)] = offset
            report.polled += 1
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
                bad.append(self._dead_letter(message, reason=str(exc)))
            else:
                good.append(record)
                by_place[(topic, partition, offset)] = message
        if not report.polled:
            return report
        try:
            if good:
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
            return report
        report.committed = await asyncio.to_thread(self._commit, last)
        return report

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

    def _commit(self, last: dict[tuple[str, int], int]) -> bool:
        offsets = [
            TopicPartition(topic, partition, offset + 1) for (topic, partition), offset in last.items()
        ]
        try:
            self._client().commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            log.warning("stream.commit_refused", stage=self.stage, error=str(exc))
            return False
        return True

    async def run(self, handle: RecordHandler, *, stop: asyncio.Event) -> None:
        """Run rounds until ``stop`` is set, backing off while a batch keeps failing; then leave the group."""
        try:
            while not stop.is_set():
                report = await self.run_batch(handle)
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


def _reason(record: OutgoingRecord) -> str:
    reason = next((value for name, value in record.headers if name == "dlq-reason"), b"")
    return reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
