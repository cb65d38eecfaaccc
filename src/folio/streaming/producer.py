"""The Kafka producer: idempotent, ``acks=all``, every record's delivery report awaited.

``EventProducer.send`` produces a batch and returns one outcome per record once the
broker answered for each (or the delivery timeout passed): ``None`` when the record is
written, a ``DeliveryError`` otherwise, whose ``broker_down`` says whether the broker
was unreachable (try again later, the record is not at fault) or refused the record.
The client is configured for safety first: ``enable.idempotence`` (the broker
deduplicates the producer's own retries and keeps each partition's order),
``acks=all``, ``max.in.flight`` 5 (the most idempotence allows). After a batch whose
delivery failed the client is replaced, so a stale producer id or sequence never
outlives an outage.

``send_transaction`` is the transactional path (KIP-98): one batch committed or
aborted atomically, for a broker that honours ``isolation.level=read_committed``
(``docs/events.md`` says what Tansu does with it).

``ensure_topics`` creates missing topics with the configured partitions.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any

import structlog
from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from folio.core.telemetry import TRACEPARENT, Span, mark_error, start_publish_span
from folio.streaming.envelope import Headers, OutgoingRecord

__all__ = ["DeliveryError", "EventProducer", "ensure_topics", "producer_config"]

log = structlog.get_logger(__name__)

_UNREACHABLE = {
    KafkaError._MSG_TIMED_OUT,  # noqa: SLF001 - librdkafka's local error codes are underscored
    KafkaError._TRANSPORT,  # noqa: SLF001
    KafkaError._ALL_BROKERS_DOWN,  # noqa: SLF001
    KafkaError._TIMED_OUT,  # noqa: SLF001
    KafkaError.NOT_ENOUGH_REPLICAS,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.REQUEST_TIMED_OUT,
}


class DeliveryError(Exception):
    """A record the broker did not acknowledge: unreachable (``broker_down``) or refused."""

    def __init__(self, reason: str, *, broker_down: bool) -> None:
        super().__init__(reason)
        self.broker_down = broker_down


def producer_config(bootstrap_servers: str, *, delivery_timeout_s: float, client_id: str) -> dict[str, Any]:
    """The producer's librdkafka configuration: idempotent, acks from every in-sync replica."""
    return {
        "bootstrap.servers": bootstrap_servers,
        "client.id": client_id,
        "enable.idempotence": True,
        "acks": "all",
        "max.in.flight.requests.per.connection": 5,
        "message.timeout.ms": int(delivery_timeout_s * 1000),
        "linger.ms": 5,
        # Quiet reconnect attempts while a broker restarts: the delivery reports say enough.
        "log.connection.close": False,
    }


class EventProducer:
    """Produces batches of records and waits for each delivery report (see the module docstring)."""

    def __init__(self, config: dict[str, Any], *, delivery_timeout_s: float) -> None:
        self.config = dict(config)
        self.delivery_timeout_s = delivery_timeout_s
        self._producer: Producer | None = None

    @property
    def bootstrap_servers(self) -> str:
        """The cluster this producer writes to."""
        return str(self.config["bootstrap.servers"])

    def _client(self) -> Producer:
        if self._producer is None:
            self._producer = Producer(self.config)
        return self._producer

    async def send(self, records: Sequence[OutgoingRecord]) -> list[DeliveryError | None]:
        """Produce ``records`` in order; one outcome per record once each was acknowledged or gave up."""
        outcomes: list[DeliveryError | None] = [
            DeliveryError("no delivery report", broker_down=True) for _ in records
        ]
        if not records:
            return outcomes
        records, spans = _traced(records)
        producer = self._client()

        def report(index: int) -> Any:
            def on_delivery(error: KafkaError | None, _message: Message) -> None:
                if error is None:
                    outcomes[index] = None
                else:
                    outcomes[index] = DeliveryError(str(error), broker_down=error.code() in _UNREACHABLE)

            return on_delivery

        def produce_all() -> None:
            for index, record in enumerate(records):
                while True:
                    try:
                        producer.produce(
                            record.topic,
                            key=record.key.encode(),
                            value=record.value,
                            headers=record.headers,
                            on_delivery=report(index),
                        )
                        break
                    except BufferError:  # the client's queue is full: let it drain
                        producer.poll(0.1)
                    except KafkaException as exc:
                        outcomes[index] = DeliveryError(str(exc), broker_down=False)
                        break
            producer.flush(self.delivery_timeout_s + 5.0)

        await asyncio.to_thread(produce_all)
        for span, outcome in zip(spans, outcomes, strict=True):
            if span is not None:
                if outcome is not None:
                    mark_error(span, str(outcome))
                span.end()
        if any(outcome is not None for outcome in outcomes):
            await self.close()  # a fresh producer id after an outage (see the module docstring)
        return outcomes

    async def send_transaction(
        self, records: Sequence[OutgoingRecord], *, transactional_id: str, commit: bool = True
    ) -> None:
        """Produce ``records`` in one Kafka transaction, then commit it (or abort it: ``commit=False``).

        Uses a client of its own with ``transactional.id``; the records are flushed to the
        broker before the commit or abort. Raises ``DeliveryError`` when the broker refuses
        the transaction (nothing committed).
        """
        timeout = self.delivery_timeout_s

        def run() -> None:
            producer = Producer({**self.config, "transactional.id": transactional_id})
            try:
                producer.init_transactions(timeout)
                producer.begin_transaction()
                for record in records:
                    producer.produce(
                        record.topic, key=record.key.encode(), value=record.value, headers=record.headers
                    )
                # Every record reaches the broker before the outcome: an abort is then one the broker
                # must hide from read_committed consumers, not records dropped in the client's queue.
                producer.flush(timeout)
                if commit:
                    producer.commit_transaction(timeout)
                else:
                    producer.abort_transaction(timeout)
            except KafkaException as exc:
                raise DeliveryError(str(exc), broker_down=False) from exc

        await asyncio.to_thread(run)

    async def close(self) -> None:
        """Flush and drop the client (a later ``send`` opens a new one)."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await asyncio.to_thread(producer.flush, 1.0)


def _traced(records: Sequence[OutgoingRecord]) -> tuple[list[OutgoingRecord], list[Span | None]]:
    """Each record that continues a trace with a publish span of its own, its ``traceparent`` naming it.

    A record without one (a dead letter of an untraced record) starts no trace.
    """
    traced: list[OutgoingRecord] = []
    spans: list[Span | None] = []
    for record in records:
        if not any(name == TRACEPARENT for name, _ in record.headers):
            traced.append(record)
            spans.append(None)
            continue
        span, carried = start_publish_span(
            f"{record.topic} publish",
            parent=record.headers,
            attributes={"messaging.system": "kafka", "messaging.destination.name": record.topic},
        )
        headers: Headers = [(name, value) for name, value in record.headers if name not in carried]
        headers += [(name, value.encode()) for name, value in carried.items()]
        traced.append(dataclasses.replace(record, headers=headers))
        spans.append(span)
    return traced, spans


async def ensure_topics(bootstrap_servers: str, names: Sequence[str], *, partitions: int) -> list[str]:
    """Create the topics of ``names`` that do not exist, with ``partitions`` each; the names created.

    Raises ``DeliveryError`` (``broker_down``) when the broker cannot be asked.
    """

    def run() -> list[str]:
        admin = AdminClient({"bootstrap.servers": bootstrap_servers})
        try:
            existing = set(admin.list_topics(timeout=10).topics)
        except KafkaException as exc:
            raise DeliveryError(f"cannot list topics: {exc}", broker_down=True) from exc
        missing = [name for name in dict.fromkeys(names) if name not in existing]
        if not missing:
            return []
        futures = admin.create_topics([NewTopic(name, num_partitions=partitions) for name in missing])
        created = []
        for name, future in futures.items():
            try:
                future.result(10)
                created.append(name)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:  # a racing stage made it
                    raise DeliveryError(f"cannot create {name}: {exc}", broker_down=False) from exc
        return created

    created = await asyncio.to_thread(run)
    if created:
        log.info("streaming.topics_created", topics=created, partitions=partitions)
    return created
