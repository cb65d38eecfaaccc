"""The worker on the harness's RabbitMQ: ack, the retry ladder, dead letters, priority, shutdown, inbox."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import Database
from folio.core.settings import Settings
from folio.messaging.api import (
    Broker,
    BrokerUnavailableError,
    HandlerRegistry,
    Inbound,
    PermanentError,
    TransientError,
    UnroutableMessageError,
    Worker,
    WorkerStats,
    WorkQueue,
    list_dead,
)
from folio.messaging.envelope import new_message
from tests.conftest import free_port
from tests.integration.messaging.conftest import FAST, effect_labels, eventually, running
from tests.integration.messaging.handlers import record_effect

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("effects")]


async def publish(broker: Broker, queue: WorkQueue, *labels: str, urgent: bool = False) -> list[str]:
    """Publish one message per label to ``queue``; their ids."""
    publisher = await broker.publisher()
    return [
        await publisher.publish(queue, {"label": label}, type="test.effect", urgent=urgent)
        for label in labels
    ]


async def test_each_message_is_applied_and_acknowledged_once(
    pg_database: Database, broker: Broker, work_queue: WorkQueue
) -> None:
    """Three messages give three effects and leave nothing in the queue."""
    registry = HandlerRegistry()
    registry.transactional(work_queue, record_effect)
    async with running(pg_database, broker, registry) as worker:
        await publish(broker, work_queue, "a", "b", "c")

        async def all_applied() -> bool:
            """Three messages applied."""
            return worker.stats.applied == 3

        await eventually(all_applied)
    assert sorted(await effect_labels(pg_database, work_queue.name)) == ["a", "b", "c"]
    depth = await broker.depth(work_queue)
    assert (depth.ready, depth.urgent, depth.retrying, depth.dead) == (0, 0, 0, 0)


async def test_a_transient_failure_climbs_the_ladder_and_then_succeeds(
    pg_database: Database, broker: Broker, work_queue: WorkQueue
) -> None:
    """Two transient failures wait on the two rungs; the third attempt applies the effect once."""
    attempts: list[int] = []

    async def flaky(message: Inbound, session: AsyncSession) -> None:
        attempts.append(message.attempt)
        if message.attempt < 3:
            raise TransientError("the endpoint timed out")
        await record_effect(message, session)

    registry = HandlerRegistry()
    registry.transactional(work_queue, flaky)
    async with running(pg_database, broker, registry) as worker:
        await publish(broker, work_queue, "eventually")

        async def applied() -> bool:
            """The message applied."""
            return worker.stats.applied == 1

        await eventually(applied)
    assert attempts == [1, 2, 3]
    assert worker.stats.retried == 2
    assert await effect_labels(pg_database, work_queue.name) == ["eventually"]


async def test_transient_failures_past_the_ladder_are_dead_lettered_with_their_error(
    pg_database: Database, broker: Broker, work_queue: WorkQueue
) -> None:
    """After one try per rung and one more, the message is dead, its error and attempts kept; no effect."""

    async def always_down(message: Inbound, session: AsyncSession) -> None:
        raise TransientError("503 from https://example.test/hook")

    registry = HandlerRegistry()
    registry.transactional(work_queue, always_down)
    async with running(pg_database, broker, registry) as worker:
        [message_id] = await publish(broker, work_queue, "doomed")

        async def dead() -> bool:
            """The message dead-lettered."""
            return worker.stats.dead_lettered == 1

        await eventually(dead)
    assert worker.stats.retried == len(FAST.retry_delays_s)
    [letter] = await list_dead(broker, work_queue, limit=10)
    assert letter.message_id == message_id
    assert letter.attempts == len(FAST.retry_delays_s) + 1
    assert letter.reason == "TransientError: 503 from https://example.test/hook"
    assert letter.lane == work_queue.name
    assert await effect_labels(pg_database, work_queue.name) == []


async def test_a_permanent_failure_is_dead_lettered_at_once(
    pg_database: Database, broker: Broker, work_queue: WorkQueue
) -> None:
    """A PermanentError skips the ladder: one attempt, straight to the dead letters (a list only peeks)."""
    calls: list[str] = []

    async def refuse(message: Inbound, session: AsyncSession) -> None:
        calls.append(message.message_id)
        raise PermanentError("unknown event type")

    registry = HandlerRegistry()
    registry.transactional(work_queue, refuse)
    async with running(pg_database, broker, registry) as worker:
        await publish(broker, work_queue, "refused")

        async def dead() -> bool:
            """The message dead-lettered."""
            return worker.stats.dead_lettered == 1

        await eventually(dead)
    assert len(calls) == 1
    assert worker.stats.retried == 0
    for _ in range(2):  # listing leaves them where they are
        [letter] = await list_dead(broker, work_queue, limit=10)
        assert (letter.attempts, letter.reason) == (1, "PermanentError: unknown event type")


async def test_the_broker_dead_letters_a_message_returned_past_its_delivery_limit(
    broker: Broker, work_queue: WorkQueue
) -> None:
    """A message nacked back to its lane more than x-delivery-limit times lands in the dead letters."""
    await publish(broker, work_queue, "poison")
    channel = await broker.channel()
    try:
        lane = await channel.declare_queue(work_queue.name, passive=True)
        returns = 0
        while (message := await lane.get(no_ack=False, fail=False)) is not None:
            await message.nack(requeue=True)
            returns += 1
    finally:
        await channel.close()
    assert returns == FAST.delivery_limit + 1
    [letter] = await list_dead(broker, work_queue, limit=10)
    assert (letter.reason, letter.lane, letter.attempts) == ("delivery_limit", work_queue.name, 0)


async def test_a_publish_returns_once_confirmed_and_an_unroutable_one_raises(
    broker: Broker, work_queue: WorkQueue, migrated_postgres: Settings
) -> None:
    """After a confirmed publish the broker counts the message; no queue, or no broker, is an error."""
    await publish(broker, work_queue, "one", "two")
    assert (await broker.depth(work_queue)).ready == 2
    publisher = await broker.publisher()
    with pytest.raises(UnroutableMessageError):
        await publisher.send(new_message({}, type="t"), exchange="", routing_key=f"{work_queue.name}.nobody")
    cfg = migrated_postgres.services.rabbitmq
    nowhere = Broker(f"amqp://{cfg.user}:x@127.0.0.1:{free_port()}/{cfg.vhost}", FAST)
    with pytest.raises(BrokerUnavailableError, match="could not be reached"):
        await nowhere.publisher()


async def test_an_urgent_message_jumps_the_normal_backlog(
    pg_database: Database, broker: Broker, work_queue: WorkQueue
) -> None:
    """With the one slot busy and five normal messages waiting, an urgent one published last runs next."""
    gate = asyncio.Event()

    async def gated(message: Inbound, session: AsyncSession) -> None:
        if message.body["label"] == "gate":
            await gate.wait()
        await record_effect(message, session)

    registry = HandlerRegistry()
    registry.transactional(work_queue, gated)
    one_slot = FAST.model_copy(update={"concurrency": 1})
    async with running(pg_database, broker, registry, one_slot) as worker:
        await publish(broker, work_queue, "gate")

        async def gate_running() -> bool:
            """The gate message in flight."""
            return worker.in_flight == 1

        await eventually(gate_running)
        await publish(broker, work_queue, *(f"normal-{n}" for n in range(5)))

        async def backlog() -> bool:
            """Five normal messages waiting for the slot."""
            return worker.waiting == 5

        await eventually(backlog)
        await publish(broker, work_queue, "urgent", urgent=True)

        async def urgent_waiting() -> bool:
            """The urgent message waiting too."""
            return worker.waiting == 6

        await eventually(urgent_waiting)
        gate.set()

        async def all_applied() -> bool:
            """Seven messages applied."""
            return worker.stats.applied == 7

        await eventually(all_applied)
    labels = await effect_labels(pg_database, work_queue.name)
    assert labels == ["gate", "urgent", *(f"normal-{n}" for n in range(5))]


async def test_shutdown_lets_in_flight_messages_finish_and_returns_the_waiting_ones(
    pg_database: Database, broker: Broker, work_queue: WorkQueue
) -> None:
    """Stopping with one message running and two waiting: the running one finishes, two go back."""
    release = asyncio.Event()

    async def slow(message: Inbound, session: AsyncSession) -> None:
        await release.wait()
        await record_effect(message, session)

    registry = HandlerRegistry()
    registry.transactional(work_queue, slow)
    one_slot = FAST.model_copy(update={"concurrency": 1})
    async with running(pg_database, broker, registry, one_slot) as worker:
        await publish(broker, work_queue, "first", "second", "third")

        async def busy() -> bool:
            """One running, two waiting."""
            return (worker.in_flight, worker.waiting) == (1, 2)

        await eventually(busy)
        stopping = asyncio.create_task(worker.stop(grace_s=10.0))
        await asyncio.sleep(0.2)  # the stop has begun: consumers cancelled, waiting ones returned
        assert not stopping.done()
        release.set()
        await stopping
    assert (worker.stats.applied, worker.stats.returned) == (1, 2)
    assert await effect_labels(pg_database, work_queue.name) == ["first"]
    assert (await broker.depth(work_queue)).ready == 2


async def test_shutdown_returns_a_message_still_running_after_the_grace_period(
    pg_database: Database, broker: Broker, work_queue: WorkQueue
) -> None:
    """A handler past the grace period is cancelled: its transaction rolls back, its message goes back."""

    async def stuck(message: Inbound, session: AsyncSession) -> None:
        await record_effect(message, session)
        await asyncio.Event().wait()

    registry = HandlerRegistry()
    registry.transactional(work_queue, stuck)
    async with running(pg_database, broker, registry) as worker:
        await publish(broker, work_queue, "stuck")

        async def running_one() -> bool:
            """The message in flight."""
            return worker.in_flight == 1

        await eventually(running_one)
        await worker.stop(grace_s=0.2)
    assert (worker.stats.applied, worker.stats.returned) == (0, 1)
    assert await effect_labels(pg_database, work_queue.name) == []
    assert (await broker.depth(work_queue)).ready == 1


async def test_a_redelivered_copy_changes_nothing(
    pg_database: Database, broker: Broker, work_queue: WorkQueue
) -> None:
    """Two copies of one message id (a relay's duplicate) give one effect; the second is a duplicate."""
    registry = HandlerRegistry()
    registry.transactional(work_queue, record_effect)
    publisher = await broker.publisher()
    async with running(pg_database, broker, registry) as worker:
        for _ in range(2):
            await publisher.publish(work_queue, {"label": "once"}, type="test.effect", message_id="same-id")

        async def both_seen() -> bool:
            """One applied, one duplicate."""
            return (worker.stats.applied, worker.stats.duplicates) == (1, 1)

        await eventually(both_seen)
    assert await effect_labels(pg_database, work_queue.name) == ["once"]


async def test_an_external_handler_is_skipped_for_a_message_it_completed(
    pg_database: Database, broker: Broker, work_queue: WorkQueue
) -> None:
    """An external handler runs once per message id: the inbox, written after it, stops the copy."""
    calls: list[str] = []

    async def post(message: Inbound) -> None:
        calls.append(message.message_id)

    registry = HandlerRegistry()
    registry.external(work_queue, post)
    publisher = await broker.publisher()
    async with running(pg_database, broker, registry) as worker:
        await publisher.publish(work_queue, {"label": "hook"}, type="test.hook", message_id="hook-1")

        async def first() -> bool:
            """The first copy applied."""
            return worker.stats.applied == 1

        await eventually(first)
        await publisher.publish(work_queue, {"label": "hook"}, type="test.hook", message_id="hook-1")

        async def second() -> bool:
            """The second copy skipped."""
            return worker.stats.duplicates == 1

        await eventually(second)
    assert calls == ["hook-1"]


async def test_a_worker_keeps_trying_an_unreachable_broker_and_stops_on_request(
    pg_database: Database, work_queue: WorkQueue, migrated_postgres: Settings
) -> None:
    """Run survives a broker it cannot reach (it retries with backoff) and returns once stopped."""
    cfg = migrated_postgres.services.rabbitmq
    nowhere = Broker(f"amqp://{cfg.user}:x@127.0.0.1:{free_port()}/{cfg.vhost}", FAST)
    registry = HandlerRegistry()
    registry.transactional(work_queue, record_effect)
    worker = Worker(pg_database, nowhere, registry, FAST)
    stop = asyncio.Event()
    running_worker = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.8)  # two connection attempts (backoff 0.5 s, then 1 s)
    assert not running_worker.done()
    stop.set()
    await asyncio.wait_for(running_worker, timeout=10)
    assert worker.stats == WorkerStats()
