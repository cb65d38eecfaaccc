"""RabbitMQ publish-with-confirms and consume msgs/s: folio.messaging vs a plain aio-pika loop.

Both sides run in this process against the services' RabbitMQ and PostgreSQL, on queues
of their own (quorum queues with the same arguments), with the same window of
``WINDOW`` publishes in flight and the same prefetch and handler concurrency:

- **publish**: ``MESSAGES`` persistent JSON messages, each awaited until the broker
  confirms it. Folio: ``Publisher.publish`` (JSON, message id, mandatory routing, the
  error mapping). Peer: ``exchange.publish`` of a prepared ``aio_pika.Message`` on a
  confirming channel.
- **consume**: the queue pre-filled with ``MESSAGES``, timed from the start of consuming
  to the last ack. Folio: a ``Worker`` whose transactional handler does nothing, so
  each message costs what exactly-once costs (its inbox row in one transaction, then
  the ack). Peer: an aio-pika consumer that writes the same inbox row with SQLAlchemy
  (``INSERT ... ON CONFLICT DO NOTHING`` in a transaction) and acks. Reported beside:
  the same aio-pika loop writing the row through Folio's ``Database.run`` (which
  isolates the worker's own cost from the database layer's), and with no database work
  at all (the broker's ceiling here).

Each side runs ``REPEATS`` times, sides interleaved; msgs/s is over all runs, p50 the
median run and p99 the slowest run (ms), and CPU per message is this process's
(``time.process_time``), steadier than msgs/s on a shared machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Literal

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from benchmarks.harness import BenchResult, Measurement
from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.migrations import upgrade
from folio.core.settings import Settings, load_settings
from folio.messaging.api import Broker, HandlerRegistry, Inbound, Worker, WorkQueue
from folio.messaging.inbox import InboxEntry, record_message

NAME = "messaging"
MESSAGES = int(os.environ.get("FOLIO_BENCH_MESSAGES", "3000"))
REPEATS = int(os.environ.get("FOLIO_BENCH_REPEATS", "3"))
WINDOW = 64
"""Publishes in flight at once (each still awaits its own confirm)."""
PREFETCH = 32
FOLIO_ENV = {"FOLIO_DATABASE_BACKEND": "postgres"}
BODY = {"order_id": "6a0c1b5e-7f7e-4a61-9a36-1f2d9b7c0e11", "status": "paid", "total_minor": 4599}

Run = Callable[[], Awaitable[None]]


async def _windowed(count: int, one: Callable[[int], Awaitable[object]]) -> None:
    """Run ``one(0..count-1)`` with at most ``WINDOW`` in flight."""
    gate = asyncio.Semaphore(WINDOW)

    async def bounded(n: int) -> None:
        async with gate:
            await one(n)

    await asyncio.gather(*(bounded(n) for n in range(count)))


def _measure(label: str, durations: list[float], cpu_s: float) -> Measurement:
    total = sum(durations)
    return Measurement(
        label=label,
        requests=MESSAGES * len(durations),
        seconds=total,
        rps=MESSAGES * len(durations) / total,
        p50_ms=statistics.median(durations) * 1000,
        p99_ms=max(durations) * 1000,
        errors=0,
        cpu_ms_per_request=cpu_s * 1000 / (MESSAGES * len(durations)),
    )


async def _timed(run: Run) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    await run()
    return time.perf_counter() - wall, time.process_time() - cpu


class Bench:
    """The broker, the database and the queues of one run."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        messaging = settings.messaging.model_copy(update={"prefetch": PREFETCH, "concurrency": PREFETCH})
        self.broker = Broker(settings.services.rabbitmq.url, messaging)
        self.queues: list[WorkQueue] = []

    def queue(self) -> WorkQueue:
        """A fresh work queue (deleted at the end)."""
        queue = WorkQueue(f"bench.{uuid.uuid4().hex[:10]}")
        self.queues.append(queue)
        return queue

    async def plain_channel(self, prefetch: int | None = None) -> AbstractChannel:
        """A confirming channel on the same connection, as a hand-written loop would open."""
        channel = await (await self.broker.connection()).channel(publisher_confirms=True)
        if prefetch is not None:
            await channel.set_qos(prefetch_count=prefetch)
        return channel

    async def folio_publish(self, queue: WorkQueue) -> None:
        """``MESSAGES`` through ``Publisher.publish``."""
        publisher = await self.broker.publisher()
        await _windowed(MESSAGES, lambda _: publisher.publish(queue, BODY, type="OrderPaid"))

    async def plain_publish(self, queue: WorkQueue) -> None:
        """``MESSAGES`` through ``exchange.publish`` on a confirming channel."""
        channel = await self.plain_channel()
        encoded = json.dumps(BODY, separators=(",", ":")).encode()

        def message(_: int) -> aio_pika.Message:
            return aio_pika.Message(
                encoded,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=uuid.uuid4().hex,
                type="OrderPaid",
            )

        try:
            await _windowed(MESSAGES, lambda n: channel.default_exchange.publish(message(n), queue.name))
        finally:
            await channel.close()

    async def folio_consume(self, queue: WorkQueue) -> None:
        """Drain ``queue`` with a ``Worker`` whose handler only has its inbox row written."""
        done = asyncio.Event()
        seen = 0

        async def handle(_message: Inbound, _session: AsyncSession) -> None:
            nonlocal seen
            seen += 1
            if seen == MESSAGES:
                done.set()

        registry = HandlerRegistry()
        registry.transactional(queue, handle)
        worker = Worker(self.db, self.broker, registry, self.broker.settings)
        await worker.start()
        await done.wait()
        await worker.stop(grace_s=5.0)

    async def plain_consume(
        self, queue: WorkQueue, *, inbox: Literal["core", "unit", "none"] = "core"
    ) -> None:
        """Drain ``queue`` with aio-pika, writing the inbox row (by hand, or in a Folio unit), then acking."""
        done = asyncio.Event()
        seen = 0
        engine = self.db.primary

        async def handle(message: AbstractIncomingMessage) -> None:
            nonlocal seen
            message_id = str(message.message_id)
            if inbox == "core":
                row = {"consumer": queue.name, "message_id": message_id, "processed_at": utcnow()}
                async with engine.begin() as connection:
                    await connection.execute(insert(InboxEntry).values(row).on_conflict_do_nothing())
            elif inbox == "unit":
                await self.db.run(partial(record_message, consumer=queue.name, message_id=message_id))
            await message.ack()
            seen += 1
            if seen == MESSAGES:
                done.set()

        channel = await self.plain_channel(prefetch=PREFETCH)
        try:
            lane = await channel.declare_queue(queue.name, passive=True)
            tag = await lane.consume(handle)
            await done.wait()
            await lane.cancel(tag)
        finally:
            await channel.close()

    async def drop(self) -> None:
        """Delete every queue the run made, and its inbox rows."""
        channel = await self.plain_channel()
        for queue in self.queues:
            for name in self.broker.plan(queue).all_queues():
                await channel.queue_delete(name)
        await channel.close()
        names = [queue.name for queue in self.queues]

        async def forget(session: AsyncSession) -> None:
            await session.execute(delete(InboxEntry).where(InboxEntry.consumer.in_(names)))

        await self.db.run(forget)
        await self.broker.aclose()


async def _round(bench: Bench) -> dict[str, tuple[float, float]]:
    """One run of each side on fresh queues: (wall s, CPU s) by ``p-`` (publish) and ``c-`` (consume) side."""
    folio_queue, peer_queue, unit_queue, bare_queue = (bench.queue() for _ in range(4))
    for queue in (folio_queue, peer_queue, unit_queue, bare_queue):
        await bench.broker.declare(queue)
    timings = {
        "p-folio": await _timed(lambda: bench.folio_publish(folio_queue)),
        "p-peer": await _timed(lambda: bench.plain_publish(peer_queue)),
    }
    for queue in (unit_queue, bare_queue):  # untimed: the backlogs of the two extra consumers
        await bench.folio_publish(queue)
    timings["c-folio"] = await _timed(lambda: bench.folio_consume(folio_queue))
    timings["c-peer"] = await _timed(lambda: bench.plain_consume(peer_queue))
    timings["c-unit"] = await _timed(lambda: bench.plain_consume(unit_queue, inbox="unit"))
    timings["c-bare"] = await _timed(lambda: bench.plain_consume(bare_queue, inbox="none"))
    return timings


async def _run(settings: Settings) -> list[BenchResult]:
    db = Database.from_urls(settings.database, settings.database_url)
    bench = Bench(settings, db)
    walls: dict[str, list[float]] = {}
    cpu: dict[str, float] = {}
    try:
        for _ in range(REPEATS):
            for side, (wall, spent) in (await _round(bench)).items():
                walls.setdefault(side, []).append(wall)
                cpu[side] = cpu.get(side, 0.0) + spent
    finally:
        await bench.drop()
        await db.dispose()
    parameters: dict[str, object] = {
        "messages": MESSAGES,
        "repeats": REPEATS,
        "window": WINDOW,
        "prefetch": PREFETCH,
        "concurrency": PREFETCH,
        "timer": "time.perf_counter per run; p50 = median run, p99 = slowest run; cpu = time.process_time",
    }
    bare = _measure("aio-pika, no database", walls["c-bare"], cpu["c-bare"])
    unit = _measure("aio-pika + Database.run(record_message)", walls["c-unit"], cpu["c-unit"])
    return [
        BenchResult.comparing(
            __doc__,
            name=f"{NAME}_publish",
            folio=_measure("folio.messaging", walls["p-folio"], cpu["p-folio"]),
            peer=_measure("aio-pika", walls["p-peer"], cpu["p-peer"]),
            ratio_label="folio/aio-pika publish-with-confirms msgs/s",
            parameters=parameters,
        ),
        BenchResult.comparing(
            __doc__,
            name=f"{NAME}_consume",
            folio=_measure("folio.messaging", walls["c-folio"], cpu["c-folio"]),
            peer=_measure("aio-pika + inbox row", walls["c-peer"], cpu["c-peer"]),
            ratio_label="folio/aio-pika consume msgs/s (inbox row each)",
            parameters={
                **parameters,
                "peer_with_folio_unit_of_work": unit.describe(),
                "peer_without_database": bare.describe(),
            },
        ),
    ]


def run() -> list[BenchResult]:
    """Publish and consume through both on the services' RabbitMQ and PostgreSQL."""
    os.environ.update(FOLIO_ENV)
    settings = load_settings()
    upgrade(settings.database_migration_url)
    return asyncio.run(_run(settings))
