"""The Kafka relay: publishes the outbox's event families to Kafka, one topic each, losing none.

The relay is the outbox consumer ``kafka-relay`` (subscribed to ``orders`` and
``payments`` by migration ``0016_analytics``, to the other ``streaming.relay_topics``
when it starts), the sibling of ``folio.messaging``'s RabbitMQ relay over the same
outbox functions. Each round it claims a batch of its topics' events and:

1. checks each payload against its schema (``folio.streaming.event_schemas``): an event
   that fails, or has no schema, is set aside at once in the outbox (poisoned, with the
   reason; ``folio outbox poisoned kafka-relay``): it would fail the same way every time;
2. produces the others to ``<prefix><outbox topic>`` keyed ``<shop>:<aggregate id>``,
   with the envelope's headers (``folio.streaming.envelope``), and waits for every
   delivery report (idempotent producer, ``acks=all``);
3. acknowledges in the outbox **only the delivered ones**.

While the broker is unreachable nothing is acknowledged and no attempt is spent: the
round backs off (doubling up to ``MAX_BACKOFF_S``) and the events wait in the outbox.
A record the broker refuses counts an attempt (poisoned after ``RETRY.max_attempts``).
Duplicates are possible (a crash between delivery and acknowledgement): each copy
carries the same ``event-id``, which the sink's upsert absorbs. One relay at a time by
preference (a lock held while relaying), for order and economy, not for safety.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import structlog

from folio.core.db import Database
from folio.core.errors import FolioError
from folio.core.outbox import (
    ClaimedEvent,
    RelayLoop,
    RelayReport,
    RetryPolicy,
    ack_events,
    fail_event,
    subscribe_consumer,
)
from folio.streaming.envelope import outgoing_from_event
from folio.streaming.event_schemas import EventSchemas, SchemaViolationError
from folio.streaming.producer import DeliveryError, EventProducer, ensure_topics
from folio.streaming.topics import TopicNames

__all__ = ["RELAY_CONSUMER", "KafkaRelay"]

log = structlog.get_logger(__name__)

RELAY_CONSUMER = "kafka-relay"
"""The outbox consumer name of the Kafka relay (migration ``0016_analytics`` subscribes it)."""

_SET_ASIDE = RetryPolicy(max_attempts=1, first_backoff_s=0.0, max_backoff_s=0.0)
"""A schema violation is poisoned on its first failure: it cannot succeed later."""


class KafkaRelay(RelayLoop):
    """Publishes one outbox consumer's events to Kafka (see the module docstring).

    ``run_forever`` is the outbox relays' shared loop (``folio.core.outbox.RelayLoop``);
    a broker that cannot create the topics yet (``DeliveryError``) is an outage like a
    database that is down: waited out.
    """

    RETRY: ClassVar[RetryPolicy] = RetryPolicy(max_attempts=10, first_backoff_s=1.0, max_backoff_s=300.0)
    LOG_NAME: ClassVar[str] = "kafka_relay"
    OUTAGES: ClassVar[tuple[type[Exception], ...]] = (FolioError, DeliveryError)

    def __init__(
        self,
        db: Database,
        producer: EventProducer,
        schemas: EventSchemas,
        *,
        names: TopicNames,
        topics: Sequence[str],
        consumer: str = RELAY_CONSUMER,
        batch_size: int = 500,
        partitions: int = 6,
    ) -> None:
        self.db = db
        self.producer = producer
        self.schemas = schemas
        self.names = names
        self.topics = tuple(topics)
        self.consumer = consumer
        self.batch_size = batch_size
        self.partitions = partitions
        self._backoff_s = 0.0

    async def subscribe(self) -> None:
        """Subscribe to every configured outbox topic; create the missing Kafka topics (idempotent)."""
        for topic in self.topics:
            await subscribe_consumer(self.db, consumer=self.consumer, topic=topic)
        await ensure_topics(
            self.producer.bootstrap_servers,
            [self.names.family(topic) for topic in self.topics],
            partitions=self.partitions,
        )

    async def run_once(self) -> RelayReport:
        """Claim one batch, check it, produce it, acknowledge what the broker acknowledged."""
        report = RelayReport()
        events = await self.claim_batch()
        report.claimed = len(events)
        valid: list[ClaimedEvent] = []
        for event in events:
            try:
                self.schemas.check(event.topic, event.type, event.schema_version, event.payload)
            except SchemaViolationError as exc:
                report.failed += 1
                report.errors.append(f"schema: {exc}")
                await fail_event(
                    self.db,
                    consumer=self.consumer,
                    event_id=event.id,
                    error=f"schema: {exc}",
                    retry=_SET_ASIDE,
                )
                log.warning("kafka_relay.schema_violation", event_id=event.id, error=str(exc))
            else:
                valid.append(event)
        outcomes = await self.producer.send(
            [outgoing_from_event(event, topic=self.names.family(event.topic)) for event in valid]
        )
        delivered = [event.id for event, outcome in zip(valid, outcomes, strict=True) if outcome is None]
        await ack_events(self.db, consumer=self.consumer, event_ids=delivered)
        report.published = len(delivered)
        for event, outcome in zip(valid, outcomes, strict=True):
            if outcome is None:
                continue
            report.failed += 1
            report.errors.append(str(outcome))
            if outcome.broker_down:
                report.broker_down = True  # the broker, not the event: it waits without an attempt
                continue
            await fail_event(
                self.db, consumer=self.consumer, event_id=event.id, error=str(outcome), retry=self.RETRY
            )
        if report.failed:
            log.warning(
                "kafka_relay.failed", failed=report.failed, published=report.published, error=report.errors[0]
            )
        return report
