"""Periodic jobs over two worker replicas on the services' Redis: one round per interval, not per replica."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from folio.core.db import Database
from folio.core.settings import Settings
from folio.locks.api import Redlock
from folio.messaging.api import Broker, HandlerRegistry, JobRounds, Worker
from tests.integration.messaging.conftest import FAST, eventually

pytestmark = pytest.mark.integration

INTERVAL_S = 0.3


@pytest.fixture
async def redis_url(settings: Settings, require_service: Callable[[str], None]) -> AsyncIterator[str]:
    """The services' Redis; the test's lock keys (a namespace of its own) deleted afterwards."""
    require_service("redis")
    url = settings.services.redis.urls[0]
    yield url
    client = Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match="test-periodic-*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def test_two_replicas_run_a_job_once_per_interval(
    sqlite_database: Database, settings: Settings, redis_url: str
) -> None:
    """Two workers whose timers fire half an interval apart run the job at most once per interval in all."""
    namespace = f"test-periodic-{uuid.uuid4().hex[:10]}"
    started: list[float] = []

    async def job() -> None:
        started.append(time.monotonic())

    # Each replica as its own process would have it: its registry, its Redis clients, its broker
    # (which a worker with no queues never dials).
    replicas: list[tuple[Worker, Redlock]] = []
    for _ in range(2):
        registry = HandlerRegistry()
        registry.every(INTERVAL_S, "test:periodic", job)
        locks = Redlock.from_urls([redis_url], settings.locks, namespace=namespace)
        broker = Broker(settings.services.rabbitmq.url, FAST)
        replicas.append(
            (Worker(sqlite_database, broker, registry, FAST, rounds=JobRounds(locks, lease_s=5)), locks)
        )
    stop = asyncio.Event()
    begun = time.monotonic()
    tasks = [asyncio.create_task(replicas[0][0].run(stop))]
    await asyncio.sleep(INTERVAL_S / 2)
    tasks.append(asyncio.create_task(replicas[1][0].run(stop)))
    workers = [worker for worker, _ in replicas]

    async def three_fires_each() -> bool:
        """Both replicas' timers fired three times (a round run or skipped)."""
        return all(w.stats.job_rounds + w.stats.jobs_skipped >= 3 for w in workers)

    try:
        await eventually(three_fires_each)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for _, locks in replicas:
            await locks.aclose()
    intervals = (time.monotonic() - begun) / INTERVAL_S
    # Six timer fires over about 3.5 intervals: one replica's timer per interval, not both.
    assert 1 <= len(started) <= int(intervals) + 1, (len(started), intervals)
    assert sum(w.stats.job_rounds for w in workers) == len(started)
    assert sum(w.stats.jobs_skipped for w in workers) >= 6 - len(started)
