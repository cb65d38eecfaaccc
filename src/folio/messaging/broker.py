"""The connection to RabbitMQ: declaring the topology and publishing with confirms.

Key contracts:

- ``Broker`` connects on first use (never at import or construction) with aio-pika's
  robust connection, which reconnects and restores its channels, queues and consumers
  after the broker comes back. A failed connect raises ``BrokerUnavailableError``.
- Every publish is persistent and waits for the broker's confirm (``Basic.Ack``), so a
  publish that returned is on disk in a quorum queue's majority; a publish that raised
  may or may not have landed (a lost confirm), and the caller retries: duplicates
  possible, absorbed by the consumer's inbox. Publishing to a queue by name is
  mandatory (``UnroutableMessageError`` when no queue took it); events to
  ``folio.events`` are not (an event nobody subscribed to is nobody's loss).
- ``declare`` is idempotent; a queue whose arguments changed since it was first
  declared makes the broker refuse (``PRECONDITION_FAILED``), raised as is: the
  operator deletes the old queue or keeps the old arguments.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aio_pika
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractRobustConnection,
    FieldValue,
)
from aio_pika.exceptions import (
    AMQPError,
    ChannelInvalidStateError,
    ChannelNotFoundEntity,
    DeliveryError,
    PublishError,
)

from folio.core.outbox import ClaimedEvent
from folio.core.platform import Slot
from folio.core.settings import Settings
from folio.core.telemetry import traced_publish
from folio.messaging.envelope import event_message, new_message
from folio.messaging.errors import BrokerUnavailableError, PublishRefusedError, UnroutableMessageError
from folio.messaging.metrics import record_published
from folio.messaging.settings import MessagingSettings
from folio.messaging.topology import (
    DEAD_LETTER_EXCHANGE,
    EVENTS_EXCHANGE,
    RETRY_RETURN_EXCHANGE,
    RETURN_HEADER,
    URGENT_EVENTS_EXCHANGE,
    QueuePlan,
    WorkQueue,
    event_routing_key,
    plan,
)

__all__ = ["BROKER", "BROKER_ERRORS", "Broker", "Publisher", "QueueDepth", "broker_for"]

log = structlog.get_logger(__name__)

BROKER_ERRORS: tuple[type[BaseException], ...] = (
    AMQPError,
    ChannelInvalidStateError,
    OSError,
    asyncio.TimeoutError,
)
"""What a broker call raises when the broker is unreachable, went away or did not answer in time."""

_EXCHANGES = (
    (EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC),
    (URGENT_EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC),
    (DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.DIRECT),
    (RETRY_RETURN_EXCHANGE, aio_pika.ExchangeType.HEADERS),
)


@dataclass(frozen=True)
class QueueDepth:
    """One work queue's messages as the broker counts them (ready ones: unacknowledged are not counted)."""

    name: str
    ready: int
    urgent: int
    retrying: int
    """Waiting on the retry ladder's rungs."""
    dead: int
    consumers: int
    """Consumers on its two lanes (each worker process has one per lane)."""


def _span_attributes(routing_key: str) -> dict[str, str]:
    return {"messaging.system": "rabbitmq", "messaging.destination.name": routing_key}


class Publisher:
    """Publishes on one confirming channel; made by ``Broker.publisher``."""

    def __init__(self, broker: Broker, channel: AbstractChannel) -> None:
        self._broker = broker
        self.channel = channel

    async def publish(
        self,
        queue: WorkQueue,
        body: Any,
        *,
        type: str,  # noqa: A002 - the AMQP property's own name
        message_id: str | None = None,
        urgent: bool = False,
        correlation_id: str | None = None,
        headers: dict[str, FieldValue] | None = None,
    ) -> str:
        """Publish ``body`` (JSON) to a lane of ``queue`` (declared first if need be); returns the message id.

        ``message_id`` is the consumer's deduplication key: give the same one to every
        copy of one message (a fresh UUID when omitted).
        """
        work = await self._broker.declare(queue)
        routing_key = work.urgent if urgent else work.name
        with traced_publish(
            f"{routing_key} publish", parent=None, attributes=_span_attributes(routing_key)
        ) as trace:
            message = new_message(
                body,
                type=type,
                message_id=message_id,
                correlation_id=correlation_id,
                headers={**(headers or {}), **trace},
            )
            await self.send(message, exchange="", routing_key=routing_key)
        return str(message.message_id)

    async def publish_event(self, event: ClaimedEvent, *, urgent: bool) -> None:
        """Publish an outbox event to ``folio.events`` (or its urgent twin), routed by ``<topic>.<type>``."""
        routing_key = event_routing_key(event.topic, event.type)
        # Continues the trace of the request that wrote the event (its outbox row's traceparent).
        with traced_publish(
            f"{routing_key} publish", parent=event.traceparent, attributes=_span_attributes(routing_key)
        ) as trace:
            message = event_message(event)
            message.headers.update(trace)
            await self.send(
                message,
                exchange=URGENT_EVENTS_EXCHANGE if urgent else EVENTS_EXCHANGE,
                routing_key=routing_key,
                mandatory=False,
            )

    async def send(
        self, message: aio_pika.Message, *, exchange: str, routing_key: str, mandatory: bool = True
    ) -> None:
        """Publish ``message`` and wait for the broker's confirm (see the module docstring for the errors)."""
        target: AbstractExchange = (
            self.channel.default_exchange
            if exchange == ""
            else await self.channel.get_exchange(exchange, ensure=False)
        )
        try:
            await target.publish(
                message, routing_key, mandatory=mandatory, timeout=self._broker.settings.publish_timeout_s
            )
        except PublishError as exc:
            record_published(exchange, "returned")
            raise UnroutableMessageError(
                f"no queue took the message routed {routing_key!r} on exchange {exchange or '(default)'!r}",
                routing_key=routing_key,
            ) from exc
        except DeliveryError as exc:
            record_published(exchange, "failed")
            raise PublishRefusedError(f"the broker refused the message routed {routing_key!r}") from exc
        except BROKER_ERRORS as exc:
            record_published(exchange, "failed")
            raise BrokerUnavailableError(
                f"publishing to the broker failed: {type(exc).__name__}: {exc}"
            ) from exc
        record_published(exchange, "confirmed")


class Broker:
    """One robust AMQP connection per process, its channels, and what this process has declared."""

    def __init__(self, url: str | Callable[[], str], settings: MessagingSettings) -> None:
        """``url`` is the AMQP URL, or a function returning it on connecting (it reads a password file)."""
        self._url = url
        self.settings = settings
        self._connection: AbstractRobustConnection | None = None
        self._publisher: Publisher | None = None
        self._declared: dict[WorkQueue, QueuePlan] = {}
        self._exchanges_declared = False
        self._lock = asyncio.Lock()

    def plan(self, queue: WorkQueue) -> QueuePlan:
        """``queue`` resolved against this broker's settings (ladder, delivery limit)."""
        return plan(queue, self.settings)

    async def connection(self) -> AbstractRobustConnection:
        """The connection, opened on first use; ``BrokerUnavailableError`` when the broker is unreachable."""
        async with self._lock:
            if self._connection is None or self._connection.is_closed:
                url = self._url() if callable(self._url) else self._url
                try:
                    self._connection = await aio_pika.connect_robust(
                        url,
                        timeout=self.settings.connect_timeout_s,
                        client_properties={"connection_name": "folio"},
                    )
                except BROKER_ERRORS as exc:
                    raise BrokerUnavailableError(
                        f"RabbitMQ could not be reached: {type(exc).__name__}: {exc}; "
                        "start it with `folio services up rabbitmq`"
                    ) from exc
                self._publisher = None
                self._declared = {}
                self._exchanges_declared = False
            return self._connection

    async def channel(self, *, prefetch: int | None = None) -> AbstractChannel:
        """A new confirming channel (unroutable mandatory publishes raise), with ``prefetch`` when given."""
        connection = await self.connection()
        try:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            if prefetch is not None:
                await channel.set_qos(prefetch_count=prefetch)
        except BROKER_ERRORS as exc:
            raise BrokerUnavailableError(f"opening a channel failed: {type(exc).__name__}: {exc}") from exc
        return channel

    async def publisher(self) -> Publisher:
        """The process's publisher, on a channel of its own (opened again if the broker closed it)."""
        if self._publisher is None or self._publisher.channel.is_closed:
            self._publisher = Publisher(self, await self.channel())
        return self._publisher

    async def declare(self, queue: WorkQueue) -> QueuePlan:
        """Declare Folio's exchanges and ``queue``'s lanes, ladder and dead letters (once per connection)."""
        declared = self._declared.get(queue)  # every publish asks: one dict lookup when declared
        if declared is not None and self._connection is not None:
            return declared
        work = self.plan(queue)
        channel = await self.channel()
        try:
            if not self._exchanges_declared:
                for name, kind in _EXCHANGES:
                    await channel.declare_exchange(name, kind, durable=True)
                self._exchanges_declared = True
            await _declare_plan(channel, work)
        finally:
            await channel.close()
        self._declared[queue] = work
        return work

    async def depth(self, queue: WorkQueue) -> QueueDepth:
        """How many messages wait in ``queue``'s lanes, ladder and dead letters (declares nothing)."""
        work = self.plan(queue)
        counts: dict[str, tuple[int, int]] = {}
        channel = await self.channel()
        try:
            for name in work.all_queues():
                try:
                    declared = await channel.declare_queue(name, passive=True)
                except ChannelNotFoundEntity:
                    counts[name] = (0, 0)  # never declared (a rung of a new ladder, a queue not yet used)
                    channel = await self.channel()  # the broker closed the channel that asked
                    continue
                result = declared.declaration_result
                counts[name] = (result.message_count or 0, result.consumer_count or 0)
        finally:
            await channel.close()
        return QueueDepth(
            name=work.name,
            ready=counts[work.name][0],
            urgent=counts[work.urgent][0],
            retrying=sum(counts[rung.name][0] for rung in work.rungs),
            dead=counts[work.dead][0],
            consumers=counts[work.name][1] + counts[work.urgent][1],
        )

    async def aclose(self) -> None:
        """Close the connection (and with it every channel) if one was opened."""
        connection, self._connection, self._publisher = self._connection, None, None
        if connection is not None and not connection.is_closed:
            await connection.close()


async def _declare_plan(channel: AbstractChannel, work: QueuePlan) -> None:
    events = await channel.get_exchange(EVENTS_EXCHANGE, ensure=False)
    urgent_events = await channel.get_exchange(URGENT_EVENTS_EXCHANGE, ensure=False)
    returns = await channel.get_exchange(RETRY_RETURN_EXCHANGE, ensure=False)
    for lane, exchange in ((work.name, events), (work.urgent, urgent_events)):
        queue = await channel.declare_queue(lane, durable=True, arguments=work.lane_arguments())
        await queue.bind(returns, arguments={"x-match": "all", RETURN_HEADER: lane})
        for pattern in work.queue.bindings:
            await queue.bind(exchange, routing_key=pattern)
    for rung in work.rungs:
        await channel.declare_queue(rung.name, durable=True, arguments=work.rung_arguments(rung))
    dead = await channel.declare_queue(work.dead, durable=True, arguments=work.dead_arguments())
    await dead.bind(DEAD_LETTER_EXCHANGE, routing_key=work.name)


def broker_for(settings: Settings) -> Broker:
    """The broker ``services.rabbitmq`` names; connects to nothing (the password is read when it connects)."""
    return Broker(lambda: settings.services.rabbitmq.url, settings.messaging)


BROKER: Slot[Broker] = Slot("message broker")
"""The process's broker (``folio.bootstrap`` provides it outside lite mode; the platform closes it)."""
