"""Lease-based caching across two "processes" (own caches, own lock clients) on the real Redis servers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from folio.core.cache import Caches
from folio.core.settings import Settings
from folio.core.settings.cache import CacheSettings
from folio.locks.api import LeaseCache, LockNotAcquiredError
from tests.integration.locks.conftest import MakeLocks

pytestmark = pytest.mark.integration

CACHE_LEASE_S = 0.05
"""The core cache's own load lease: short, so a waiter soon goes past it to the lock."""


class GatedOrigin:
    """An origin that answers ``value`` once ``gate`` opens, counting its calls and how many overlap."""

    def __init__(self, value: bytes) -> None:
        self.value = value
        self.gate = asyncio.Event()
        self.called = asyncio.Event()
        self.calls = 0
        self.running = 0
        self.most_at_once = 0

    async def __call__(self) -> bytes:
        """Count the call and the overlap, wait for the gate, answer."""
        self.calls += 1
        self.called.set()
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await self.gate.wait()
            return self.value
        finally:
            self.running -= 1


async def eventually(cache: LeaseCache, key: str, origin: GatedOrigin, value: bytes) -> None:
    """Read ``key`` until it is ``value``; fail after two seconds."""
    deadline = asyncio.get_running_loop().time() + 2.0
    while (read := await cache.get_or_load(key, origin, ttl_s=60)) != value:
        assert asyncio.get_running_loop().time() < deadline, f"still {read!r}"
        await asyncio.sleep(0.01)


@pytest.fixture
async def process(
    settings: Settings, require_service: Callable[[str], None], make_locks: MakeLocks
) -> AsyncIterator[Callable[[], LeaseCache]]:
    """Builds a LeaseCache standing for one process: its own caches (L1, Redis client) and lock clients."""
    require_service("redis")
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    built: list[Caches] = []

    def build() -> LeaseCache:
        caches = Caches(
            CacheSettings(lease_s=CACHE_LEASE_S),
            redis=Redis.from_url(settings.services.redis.urls[0]),
            namespace=namespace,
        )
        built.append(caches)
        return LeaseCache(caches.named("report", stale_s=30), make_locks(), lease_ttl_s=1.0, wait_s=0.2)

    yield build
    for caches in built:
        await caches.aclose()
    cleanup = Redis.from_url(settings.services.redis.urls[0])
    keys = [key async for key in cleanup.scan_iter(match=f"{namespace}:*")]
    if keys:
        await cleanup.delete(*keys)
    await cleanup.aclose()


async def test_readers_get_the_stale_value_while_one_holder_refreshes(
    process: Callable[[], LeaseCache],
) -> None:
    """A stale entry is served at once everywhere while the lease holder refreshes; loads never overlap."""
    first, second = process(), process()
    opened = GatedOrigin(b"old")
    opened.gate.set()
    await first.get_or_load("daily", opened, ttl_s=0.01)
    await asyncio.sleep(0.05)  # past its TTL, inside its stale window
    origin = GatedOrigin(b"new")

    served = [await cache.get_or_load("daily", origin, ttl_s=60) for cache in (first, second, first, second)]
    await asyncio.sleep(3 * CACHE_LEASE_S)  # the second's refresh goes past the cache's lease, to the lock

    assert served == [b"old"] * 4
    assert (origin.calls, origin.most_at_once) == (1, 1)
    origin.gate.set()
    for cache in (first, second):
        await eventually(cache, "daily", origin, b"new")
    # The second process's own stale copy is refreshed too, but only after the holder's: in turn.
    assert origin.most_at_once == 1


async def test_a_miss_waits_briefly_for_the_holder_then_is_told_the_lease_is_busy(
    process: Callable[[], LeaseCache],
) -> None:
    """With no value to serve, another process waits for the lease, then gets lock-busy: no second load."""
    first, second = process(), process()
    origin = GatedOrigin(b"report")
    loading = asyncio.create_task(first.get_or_load("weekly", origin, ttl_s=60))
    await origin.called.wait()

    with pytest.raises(LockNotAcquiredError):
        await second.get_or_load("weekly", origin, ttl_s=60)

    assert (origin.calls, origin.most_at_once) == (1, 1)
    origin.gate.set()
    assert await loading == b"report"
    assert await second.get_or_load("weekly", origin, ttl_s=60) == b"report"
    assert origin.calls == 1
