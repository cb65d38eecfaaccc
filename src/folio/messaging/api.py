"""The public surface of messaging: Folio's work queues on RabbitMQ.

Key contracts (``docs/workers.md`` has the picture and the figures):

- **Publishing.** Contexts publish events on the transactional outbox as always; the
  relay (``OutboxRelay``, in every worker process, one at a time) publishes the
  ``messaging.relay_topics`` ones to ``folio.events`` with confirms and acknowledges
  them in the outbox only once confirmed: no event lost, duplicates possible. A process
  may also publish straight to a work queue (``platform.get(BROKER)``, then
  ``(await broker.publisher()).publish(queue, body, type=..., urgent=...)``).
- **Consuming.** A context declares ``WorkQueue``s and handlers in its ``consumers``
  adapter (``register(registry, platform)``, see ``folio.messaging.registry``); the
  worker process (``python -m folio.entrypoints.worker``, N replicas under ``folio up``)
  consumes them with manual acks.
- **Exactly-once effects** for ``registry.transactional`` handlers: the message id goes
  into the inbox in the handler's own transaction, so a redelivered copy changes
  nothing. ``registry.external`` handlers act at least once.
- **Failures.** Raise ``TransientError`` (or let an outage's error through) to retry on
  the backoff ladder, ``PermanentError`` to dead-letter at once; ``folio queues dlq``
  lists, replays and purges the dead letters.
- **Periodic jobs** (``registry.every``) run one round per interval across the worker
  replicas (``JobRounds``, over ``folio.locks``), not one per replica.
- **Priority.** ``urgent=True``, or an event matching ``messaging.urgent_events``, goes
  to the queue's urgent lane, which workers serve first.
"""

from __future__ import annotations

from folio.messaging.broker import BROKER, Broker, Publisher, QueueDepth, broker_for
from folio.messaging.dlq import DeadLetter, list_dead, purge_dead, replay_dead
from folio.messaging.envelope import Inbound
from folio.messaging.errors import (
    BrokerUnavailableError,
    MalformedMessageError,
    PermanentError,
    PublishRefusedError,
    TransientError,
    UnknownQueueError,
    UnroutableMessageError,
)
from folio.messaging.jobs import JobLocks, JobRounds
from folio.messaging.registry import (
    ExternalHandler,
    HandlerRegistry,
    Registrar,
    TransactionalHandler,
)
from folio.messaging.relay import RELAY_CONSUMER, OutboxRelay, RelayReport
from folio.messaging.topology import EVENTS_EXCHANGE, URGENT_EVENTS_EXCHANGE, QueuePlan, WorkQueue
from folio.messaging.worker import Worker, WorkerStats

__all__ = [
    "BROKER",
    "EVENTS_EXCHANGE",
    "RELAY_CONSUMER",
    "URGENT_EVENTS_EXCHANGE",
    "Broker",
    "BrokerUnavailableError",
    "DeadLetter",
    "ExternalHandler",
    "HandlerRegistry",
    "Inbound",
    "JobLocks",
    "JobRounds",
    "MalformedMessageError",
    "OutboxRelay",
    "PermanentError",
    "PublishRefusedError",
    "Publisher",
    "QueueDepth",
    "QueuePlan",
    "Registrar",
    "RelayReport",
    "TransactionalHandler",
    "TransientError",
    "UnknownQueueError",
    "UnroutableMessageError",
    "WorkQueue",
    "Worker",
    "WorkerStats",
    "broker_for",
    "list_dead",
    "purge_dead",
    "replay_dead",
]
