"""The broker objects Folio declares, as data: exchanges, each work queue's lanes, ladder and dead letters.

Pure: nothing here talks to RabbitMQ (``folio.messaging.broker`` declares what this
describes), so the names and arguments are unit-tested. For a work queue ``webhooks``::

    publish(queue)          folio.events  (topic; the relay, routing key <topic>.<type>)
         |                      |  bindings: WorkQueue.bindings ("payments.#", ...)
         v                      v
    [webhooks]  <------  [webhooks.urgent]  <--- folio.events.urgent (same bindings)
      |   ^  quorum queues, x-delivery-limit, dead-lettering at least once
      |   |
      |   +---- folio.retry-return (headers: folio-return-to = the lane it left)
      |                ^ dead-lettered when the TTL expires
      |   [webhooks.retry.1000ms] [webhooks.retry.5000ms] ... one quorum queue per rung
      |                ^ a transient failure: the worker publishes a copy to the rung, acks
      |
      +--> folio.dead-letter (direct, routing key webhooks) --> [webhooks.dead]
             a permanent failure, the ladder's end (published by the worker, with the
             error), or the broker's own delivery limit

Priority: quorum queues on RabbitMQ 3.10 take no ``x-max-priority``, so each work queue
has a second lane, ``<name>.urgent``, also a quorum queue; a worker takes a free handler
slot for an urgent message before any normal one waiting (``folio.messaging.slots``).
Urgent messages are published there directly (``urgent=True``), or by the relay for the
events ``messaging.urgent_events`` matches (refunds, password resets).

Rung queues are named after their delay, because a queue's arguments cannot change
once declared: a new ladder declares new rungs (old ones drain into their lanes).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from folio.messaging.settings import MessagingSettings

if TYPE_CHECKING:
    from pamqp.common import FieldTable

__all__ = [
    "DEAD_LETTER_EXCHANGE",
    "EVENTS_EXCHANGE",
    "RETRY_RETURN_EXCHANGE",
    "RETURN_HEADER",
    "URGENT_EVENTS_EXCHANGE",
    "QueuePlan",
    "Rung",
    "WorkQueue",
    "event_routing_key",
    "is_urgent_event",
    "plan",
]

EVENTS_EXCHANGE = "folio.events"
"""Topic exchange the relay publishes outbox events to, routing key ``<topic>.<type>``."""
URGENT_EVENTS_EXCHANGE = "folio.events.urgent"
"""The same for urgent events; work queues bind their urgent lane to it with the same patterns."""
DEAD_LETTER_EXCHANGE = "folio.dead-letter"
"""Direct exchange every lane dead-letters to, routing key the work queue's name."""
RETRY_RETURN_EXCHANGE = "folio.retry-return"
"""Headers exchange the ladder's rungs dead-letter to: ``RETURN_HEADER`` names the lane to go back to."""
RETURN_HEADER = "folio-return-to"
"""Not ``x-``-prefixed: a headers exchange ignores ``x-`` headers when matching."""

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*")
_MAX_NAME = 120
"""Leaves room for ``.retry.<ms>ms`` under RabbitMQ's 255-byte queue names."""
_RESERVED = ("urgent", "dead", "retry")


@dataclass(frozen=True)
class WorkQueue:
    """One consumer's queue: its name, the events it takes, and its own ladder or limit if not the settings'.

    ``bindings`` are topic patterns on ``<topic>.<type>`` (``payments.#``,
    ``orders.OrderPaid``): the outbox events the relay routes here. A queue with none
    only gets what is published to it by name.
    """

    name: str
    bindings: tuple[str, ...] = ()
    retry_delays_s: tuple[float, ...] | None = None
    delivery_limit: int | None = None

    def __post_init__(self) -> None:
        if len(self.name) > _MAX_NAME or not _NAME.fullmatch(self.name):
            raise ValueError(
                f"queue name {self.name!r}: lower-case letters, digits, '-', '_', dot-separated, "
                f"at most {_MAX_NAME} characters"
            )
        if self.name.rsplit(".", 1)[-1] in _RESERVED:
            raise ValueError(f"queue name {self.name!r} ends with a suffix Folio uses for its own queues")
        if self.retry_delays_s is not None and (
            any(delay <= 0 for delay in self.retry_delays_s)
            or list(self.retry_delays_s) != sorted(self.retry_delays_s)
        ):
            raise ValueError(f"queue {self.name!r}: retry delays must be positive and ascending")
        if self.delivery_limit is not None and self.delivery_limit < 1:
            raise ValueError(f"queue {self.name!r}: the delivery limit must be at least 1")
        if any(not pattern or len(pattern) > 255 for pattern in self.bindings):  # noqa: PLR2004 - AMQP's limit
            raise ValueError(f"queue {self.name!r}: a binding pattern must be 1 to 255 characters")


@dataclass(frozen=True)
class Rung:
    """One step of the retry ladder: a queue where a message waits ``delay_ms`` before going back."""

    name: str
    delay_ms: int


@dataclass(frozen=True)
class QueuePlan:
    """A work queue resolved against the settings: every queue name and argument to declare."""

    queue: WorkQueue
    rungs: tuple[Rung, ...]
    delivery_limit: int

    @property
    def name(self) -> str:
        """The work queue's (and normal lane's) name."""
        return self.queue.name

    @property
    def urgent(self) -> str:
        """The urgent lane."""
        return f"{self.queue.name}.urgent"

    @property
    def dead(self) -> str:
        """The dead-letter queue."""
        return f"{self.queue.name}.dead"

    @property
    def lanes(self) -> tuple[str, str]:
        """Both lanes, urgent first."""
        return (self.urgent, self.name)

    def lane_arguments(self) -> FieldTable:
        """A lane's arguments: quorum, dead-lettering at least once to ``folio.dead-letter``, the limit.

        At-least-once dead-lettering (3.10+) needs ``reject-publish`` overflow: without it
        a quorum queue drops a message the dead-letter target did not confirm.
        """
        return {
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": self.name,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
            "x-delivery-limit": self.delivery_limit,
        }

    @staticmethod
    def rung_arguments(rung: Rung) -> FieldTable:
        """A rung's arguments: one TTL for the queue (messages expire in order), out to the returns."""
        return {
            "x-queue-type": "quorum",
            "x-message-ttl": rung.delay_ms,
            "x-dead-letter-exchange": RETRY_RETURN_EXCHANGE,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }

    @staticmethod
    def dead_arguments() -> FieldTable:
        """The dead-letter queue's arguments: a plain quorum queue, kept until replayed or purged."""
        return {"x-queue-type": "quorum"}

    def rung_after(self, failures: int) -> Rung | None:
        """Where a message waits after its ``failures``-th transient failure; None past the ladder's end."""
        if failures < 1 or failures > len(self.rungs):
            return None
        return self.rungs[failures - 1]

    def all_queues(self) -> tuple[str, ...]:
        """Every queue the plan declares: lanes, rungs, dead letters."""
        return (*self.lanes, *(rung.name for rung in self.rungs), self.dead)


def plan(queue: WorkQueue, settings: MessagingSettings) -> QueuePlan:
    """``queue`` with the settings' ladder and delivery limit where it names none."""
    delays = queue.retry_delays_s if queue.retry_delays_s is not None else tuple(settings.retry_delays_s)
    rungs = tuple(
        Rung(name=f"{queue.name}.retry.{ms}ms", delay_ms=ms)
        for ms in (max(1, round(d * 1000)) for d in delays)
    )
    limit = queue.delivery_limit if queue.delivery_limit is not None else settings.delivery_limit
    return QueuePlan(queue=queue, rungs=rungs, delivery_limit=limit)


def event_routing_key(topic: str, event_type: str) -> str:
    """The routing key of an outbox event on ``folio.events``: ``<topic>.<type>``."""
    return f"{topic}.{event_type}"


def is_urgent_event(topic: str, event_type: str, patterns: Sequence[str]) -> bool:
    """Whether ``<topic>.<type>`` matches one of ``patterns`` (shell-style, case-insensitive)."""
    key = event_routing_key(topic, event_type).lower()
    return any(fnmatch.fnmatchcase(key, pattern.lower()) for pattern in patterns)
