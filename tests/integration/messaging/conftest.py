"""Fixtures for messaging against the harness's RabbitMQ: a broker with a fast ladder, a unique work queue."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from folio.core.db import Database
from folio.core.settings import Settings
from folio.messaging.api import Broker, HandlerRegistry, Worker, WorkQueue
from folio.messaging.settings import MessagingSettings
from tests.integration.messaging.handlers import EFFECTS

FAST = MessagingSettings(
    prefetch=10,
    concurrency=4,
    retry_delays_s=[0.05, 0.1],
    delivery_limit=3,
    shutdown_grace_s=5.0,
    publish_timeout_s=5.0,
    connect_timeout_s=2.0,
)
"""A ladder of 50 and 100 ms and a delivery limit of 3, so failures play out in a fraction of a second."""
WAIT_S = 15.0


@pytest.fixture
async def broker(
    migrated_postgres: Settings, require_service: Callable[[str], None]
) -> AsyncIterator[Broker]:
    """A broker on the harness's RabbitMQ with the FAST settings."""
    require_service("rabbitmq")
    broker = Broker(migrated_postgres.services.rabbitmq.url, FAST)
    yield broker
    await broker.aclose()


async def drop_queues(broker: Broker, queue: WorkQueue) -> None:
    """Delete every queue of ``queue``'s plan (lanes, rungs, dead letters)."""
    channel = await broker.channel()
    try:
        for name in broker.plan(queue).all_queues():
            await channel.queue_delete(name)
    finally:
        await channel.close()


@pytest.fixture
async def work_queue(broker: Broker) -> AsyncIterator[WorkQueue]:
    """A work queue of its own for the test (deleted afterwards, with its lanes, rungs and dead letters)."""
    queue = WorkQueue(f"test.{uuid.uuid4().hex[:12]}")
    yield queue
    await drop_queues(broker, queue)


@pytest.fixture
async def effects(migrated_postgres: Settings) -> None:
    """The test handlers' effect table, created by the owner role (the app role's grants follow)."""
    engine = create_async_engine(migrated_postgres.database_migration_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: EFFECTS.create(sync, checkfirst=True))
    finally:
        await engine.dispose()


async def effect_labels(db: Database, queue: str) -> list[str]:
    """The labels of the effect rows written for ``queue``, in the order written."""

    async def work(session: AsyncSession) -> list[str]:
        statement = sa.select(EFFECTS.c.label).where(EFFECTS.c.queue == queue).order_by(EFFECTS.c.id)
        return [str(label) for label in (await session.execute(statement)).scalars()]

    return await db.run(work)


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout_s: float = WAIT_S) -> None:
    """Wait until ``check()`` is true; fail after ``timeout_s``."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"not true within {timeout_s}s: {check.__doc__ or check}")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def running(
    db: Database, broker: Broker, registry: HandlerRegistry, settings: MessagingSettings = FAST
) -> AsyncIterator[Worker]:
    """A started worker over ``registry``, stopped (with a short grace) at the end."""
    worker = Worker(db, broker, registry, settings)
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop(grace_s=1.0)
