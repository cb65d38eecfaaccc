"""RabbitMQ round trips with aio-pika: publish/consume and dead-lettering."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from folio.core.settings import Settings

pytestmark = pytest.mark.integration

DEAD_LETTER_WAIT_S = 10.0


@pytest.fixture
async def channel(
    settings: Settings, require_service: Callable[[str], None]
) -> AsyncIterator[AbstractChannel]:
    """A channel on the Folio vhost, as the Folio user."""
    require_service("rabbitmq")
    connection = await aio_pika.connect(settings.services.rabbitmq.url)
    try:
        async with connection.channel() as chan:
            yield chan
    finally:
        await connection.close()


@dataclass
class DeadLettered:
    """A work queue whose rejected or expired messages go to ``dead``."""

    work: AbstractQueue
    dead: AbstractQueue


async def _dead_lettered(
    channel: AbstractChannel, **work_arguments: int | str
) -> AsyncIterator[DeadLettered]:
    prefix = f"test.{uuid.uuid4().hex[:12]}"
    dlx = await channel.declare_exchange(f"{prefix}.dlx", aio_pika.ExchangeType.FANOUT, auto_delete=False)
    dead = await channel.declare_queue(f"{prefix}.dead")
    await dead.bind(dlx)
    work = await channel.declare_queue(
        f"{prefix}.work", arguments={"x-dead-letter-exchange": dlx.name, **work_arguments}
    )
    try:
        yield DeadLettered(work, dead)
    finally:
        await work.delete(if_unused=False, if_empty=False)
        await dead.delete(if_unused=False, if_empty=False)
        await dlx.delete()


@pytest.fixture
async def queues(channel: AbstractChannel) -> AsyncIterator[DeadLettered]:
    """A uniquely named work queue dead-lettering to a uniquely named queue; deleted afterwards."""
    async for pair in _dead_lettered(channel):
        yield pair


@pytest.fixture
async def expiring_queues(channel: AbstractChannel) -> AsyncIterator[DeadLettered]:
    """Like ``queues``, but messages expire from the work queue after 100 ms."""
    async for pair in _dead_lettered(channel, **{"x-message-ttl": 100}):
        yield pair


async def _next_message(
    queue: AbstractQueue, timeout_s: float = DEAD_LETTER_WAIT_S
) -> AbstractIncomingMessage:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        message = await queue.get(fail=False)
        if message is not None:
            return message
        await asyncio.sleep(0.05)
    pytest.fail(f"no message arrived on {queue.name} within {timeout_s}s")


def _first_death(message: AbstractIncomingMessage) -> Mapping[str, object]:
    """The newest ``x-death`` record RabbitMQ added when it dead-lettered ``message``."""
    deaths = message.headers.get("x-death")
    assert isinstance(deaths, list)
    assert deaths
    assert isinstance(deaths[0], dict)
    return deaths[0]


async def test_published_message_is_consumed_once(channel: AbstractChannel, queues: DeadLettered) -> None:
    """A persistent message published to the work queue is delivered, and gone once acked."""
    await channel.default_exchange.publish(
        aio_pika.Message(b"order-17", delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
        routing_key=queues.work.name,
    )
    message = await _next_message(queues.work)
    assert message.body == b"order-17"
    await message.ack()
    assert await queues.work.get(fail=False) is None


async def test_rejected_message_lands_in_the_dead_letter_queue(
    channel: AbstractChannel, queues: DeadLettered
) -> None:
    """A message rejected without requeue moves to the dead-letter queue, marked 'rejected'."""
    await channel.default_exchange.publish(aio_pika.Message(b"poison"), routing_key=queues.work.name)
    message = await _next_message(queues.work)
    await message.reject(requeue=False)
    dead = await _next_message(queues.dead)
    await dead.ack()
    assert dead.body == b"poison"
    death = _first_death(dead)
    assert death["reason"] == "rejected"
    assert death["queue"] == queues.work.name
    assert await queues.work.get(fail=False) is None


async def test_expired_message_lands_in_the_dead_letter_queue(
    channel: AbstractChannel, expiring_queues: DeadLettered
) -> None:
    """A message left unconsumed past the queue's TTL is dead-lettered, marked 'expired'."""
    await channel.default_exchange.publish(aio_pika.Message(b"stale"), routing_key=expiring_queues.work.name)
    dead = await _next_message(expiring_queues.dead)
    await dead.ack()
    assert dead.body == b"stale"
    assert _first_death(dead)["reason"] == "expired"


async def test_default_guest_user_does_not_exist(
    settings: Settings, require_service: Callable[[str], None]
) -> None:
    """RabbitMQ's well-known guest/guest login is refused, even from loopback."""
    require_service("rabbitmq")
    cfg = settings.services.rabbitmq
    with pytest.raises(aio_pika.exceptions.ProbableAuthenticationError):
        await aio_pika.connect(f"amqp://guest:guest@{cfg.host}:{cfg.port}/")
