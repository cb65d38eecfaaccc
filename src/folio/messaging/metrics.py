"""The workers' RED metrics per work queue, and the publishes per exchange, in the default registry.

- ``folio_messaging_messages_total{queue, outcome}``: deliveries a worker finished with
  (``HANDLED_OUTCOMES``): the rate and the errors;
- ``folio_messaging_handling_seconds{queue}``: from a delivery taking a handler slot to its
  settling (ack, or the copy to a rung or the dead letters confirmed): the duration; its
  buckets carry the trace id as an exemplar (``folio.core.exemplars``);
- ``folio_messaging_in_flight{queue}``: deliveries whose handler runs now;
- ``folio_messaging_published_total{exchange, outcome}``: publishes by the broker's answer
  (``PUBLISH_OUTCOMES``); the default exchange (a queue by name, a retry rung) is
  ``amq.default``, as RabbitMQ names it.

Module-level for the reason the cache's are (``folio.core.cache.metrics``). ``queue`` is a
registered ``WorkQueue``'s name (declared in code: a fixed set) and ``exchange`` one of
Folio's exchanges: both bounded. A worker process serves them on its metrics port
(``messaging.metrics_port``, one per replica under ``folio up``).
"""

from __future__ import annotations

from typing import Literal

from prometheus_client import Counter, Gauge, Histogram

from folio.core.exemplars import observe

__all__ = [
    "DEFAULT_EXCHANGE",
    "HANDLED_OUTCOMES",
    "HANDLING_SECONDS",
    "IN_FLIGHT",
    "MESSAGES",
    "PUBLISHED",
    "PUBLISH_OUTCOMES",
    "HandledOutcome",
    "PublishOutcome",
    "record_handled",
    "record_handling_time",
    "record_published",
]

HandledOutcome = Literal["acked", "duplicate", "retried", "dead_lettered", "invalid", "returned"]
"""What became of a delivery: applied and acked; acked as a copy the inbox had; sent to a retry
rung; dead-lettered (a permanent failure, or past the ladder); dead-lettered as unreadable
(``MalformedMessageError``); returned to its lane (at shutdown, or when no copy could be published)."""
HANDLED_OUTCOMES: tuple[HandledOutcome, ...] = (
    "acked",
    "duplicate",
    "retried",
    "dead_lettered",
    "invalid",
    "returned",
)

PublishOutcome = Literal["confirmed", "returned", "failed"]
"""The broker's answer to a publish: confirmed; returned unroutable (no queue took it); failed
(refused with a nack, or the broker unreachable or silent past ``messaging.publish_timeout_s``)."""
PUBLISH_OUTCOMES: tuple[PublishOutcome, ...] = ("confirmed", "returned", "failed")

DEFAULT_EXCHANGE = "amq.default"
"""The label of the default exchange (the empty name in AMQP)."""

MESSAGES = Counter(
    "folio_messaging_messages_total",
    "Deliveries a worker finished with, by work queue and outcome: acked, duplicate, retried, "
    "dead_lettered, invalid, returned.",
    ["queue", "outcome"],
)
HANDLING_SECONDS = Histogram(
    "folio_messaging_handling_seconds",
    "Time from a delivery taking a handler slot to its settling, by work queue.",
    ["queue"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
IN_FLIGHT = Gauge("folio_messaging_in_flight", "Deliveries whose handler runs now, by work queue.", ["queue"])
PUBLISHED = Counter(
    "folio_messaging_published_total",
    "Messages published, by exchange and the broker's answer: confirmed, returned, failed.",
    ["exchange", "outcome"],
)


def record_handled(queue: str, outcome: HandledOutcome) -> None:
    """Count one delivery of ``queue`` finished with ``outcome``."""
    MESSAGES.labels(queue, outcome).inc()


def record_handling_time(queue: str, seconds: float) -> None:
    """Observe one delivery of ``queue`` taking ``seconds``, with the current trace as exemplar."""
    observe(HANDLING_SECONDS.labels(queue), seconds)


def record_published(exchange: str, outcome: PublishOutcome) -> None:
    """Count one publish to ``exchange`` (``""``: the default exchange) answered ``outcome``."""
    PUBLISHED.labels(exchange or DEFAULT_EXCHANGE, outcome).inc()
