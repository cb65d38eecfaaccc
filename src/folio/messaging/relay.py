"""The outbox relay: publishes outbox events of chosen topics to RabbitMQ, losing none.

The relay is the outbox consumer ``broker-relay`` (subscribed to ``payments`` and
``orders`` by migration ``0015_message_inbox``, to any other configured topic when it
starts). Each round it claims a batch of events of its configured topics
(``messaging.relay_topics``), publishes each to ``folio.events``
(or ``folio.events.urgent`` for those ``messaging.urgent_events`` matches) and waits
for the broker's confirms, then acknowledges in the outbox **only the confirmed
ones**. So:

- **No event is lost.** An event leaves the outbox only after the broker confirmed it
  (persistent, in every bound quorum queue). While the broker is unreachable nothing
  is acknowledged and nothing spends an attempt: the round backs off (doubling up to
  ``MAX_BACKOFF_S``) and the events wait in the outbox.
- **Duplicates are possible**: a confirm lost with the connection, or a crash between
  the confirm and the acknowledgement, publishes an event again on the next round.
  Every copy carries the message id ``outbox-<event id>``, so consumers' inboxes
  absorb them.
- **One relay at a time** by preference (a lock, ``run_forever(exclusive=...)``, the loop
  shared with the Kafka relay: ``folio.core.outbox.RelayLoop``), for
  order and economy, not for safety: two relays publish some events twice, nothing worse.
- An event the broker refuses outright (a ``Basic.Nack``) counts an attempt
  (``fail_event``); after ``RETRY.max_attempts`` it is set aside as poisoned, visible
  in ``folio outbox poisoned broker-relay``.
"""

from __future__ import annotations

import asyncio
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
from folio.messaging.broker import Broker
from folio.messaging.errors import BrokerUnavailableError
from folio.messaging.topology import is_urgent_event

__all__ = ["RELAY_CONSUMER", "OutboxRelay", "RelayReport"]

log = structlog.get_logger(__name__)

RELAY_CONSUMER = "broker-relay"
"""The outbox consumer name of the relay (migration ``0015_message_inbox`` subscribes it)."""


class OutboxRelay(RelayLoop):
    """Publishes one outbox consumer's events to the broker (see the module docstring).

    ``run_forever`` (``folio.core.outbox.RelayLoop``) runs the rounds: under a lock, backing
    off while the broker or the database is down.
    """

    RETRY: ClassVar[RetryPolicy] = RetryPolicy(max_attempts=10, first_backoff_s=1.0, max_backoff_s=300.0)

    def __init__(
        self,
        db: Database,
        broker: Broker,
        *,
        topics: Sequence[str],
        urgent_events: Sequence[str] = (),
        consumer: str = RELAY_CONSUMER,
        batch_size: int = 200,
    ) -> None:
        self.db = db
        self.broker = broker
        self.topics = tuple(topics)
        self.urgent_events = tuple(urgent_events)
        self.consumer = consumer
        self.batch_size = batch_size
        self._backoff_s = 0.0

    async def subscribe(self) -> None:
        """Subscribe the consumer to every configured topic (idempotent)."""
        for topic in self.topics:
            await subscribe_consumer(self.db, consumer=self.consumer, topic=topic)

    async def run_once(self) -> RelayReport:
        """Claim one batch, publish it with confirms, acknowledge what the broker confirmed."""
        report = RelayReport()
        events = await self.claim_batch()
        report.claimed = len(events)
        if not events:
            return report
        try:
            publisher = await self.broker.publisher()
        except BrokerUnavailableError as exc:
            return self._down(report, exc)
        # All at once: the confirms of one channel arrive together, not one round trip each.
        outcomes = await asyncio.gather(
            *(publisher.publish_event(event, urgent=self._urgent(event)) for event in events),
            return_exceptions=True,
        )
        confirmed = [event.id for event, outcome in zip(events, outcomes, strict=True) if outcome is None]
        await ack_events(self.db, consumer=self.consumer, event_ids=confirmed)
        report.published = len(confirmed)
        for event, outcome in zip(events, outcomes, strict=True):
            if outcome is None:
                continue
            if not isinstance(outcome, Exception):
                raise outcome  # a cancellation, or an exit: not a failure of this event
            report.failed += 1
            report.errors.append(f"{type(outcome).__name__}: {outcome}")
            if isinstance(outcome, BrokerUnavailableError):
                report.broker_down = (
                    True  # the connection, not the event: it waits without spending an attempt
                )
                continue
            await fail_event(
                self.db, consumer=self.consumer, event_id=event.id, error=str(outcome), retry=self.RETRY
            )
        if report.failed:
            log.warning(
                "relay.failed", failed=report.failed, published=report.published, error=report.errors[0]
            )
        return report

    def _urgent(self, event: ClaimedEvent) -> bool:
        return is_urgent_event(event.topic, event.type, self.urgent_events)

    def _down(self, report: RelayReport, exc: FolioError) -> RelayReport:
        report.broker_down = True
        report.errors.append(exc.detail or exc.title)
        log.warning("relay.broker_down", error=exc.detail, pending=report.claimed)
        return report
