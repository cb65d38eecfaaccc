"""The hierarchical cache in lite mode (L1 only): single flight, stale serves, invalidation, metrics."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from prometheus_client import REGISTRY
from pydantic import BaseModel

from folio.core.cache import Cached, Caches
from folio.core.settings.cache import CacheSettings
from tests.support.cache import FakeClock, Origin

pytestmark = pytest.mark.unit


def unique(name: str) -> str:
    """A cache name of this test's own, so its metric samples start at zero."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def sample(metric: str, cache: str, layer: str | None = None) -> float:
    """The metric's value for ``cache`` (and ``layer``), 0 before its first sample."""
    labels = {"cache": cache} if layer is None else {"cache": cache, "layer": layer}
    return REGISTRY.get_sample_value(metric, labels) or 0.0


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves."""
    return FakeClock()


@pytest.fixture
def caches(clock: FakeClock) -> Caches:
    """Lite-mode caches (no Redis) on the fake clock."""
    return Caches(CacheSettings(backend="memory"), clock=clock)


async def test_500_concurrent_misses_call_the_origin_once(caches: Caches) -> None:
    """Every caller gets the value and the origin runs once (the count is printed)."""
    cache = caches.named(unique("stampede"))
    origin = Origin(delay_s=0.01)
    values = await asyncio.gather(*(cache.get_or_load("k", origin, ttl_s=60) for _ in range(500)))
    print(  # noqa: T201 - the figure the issue asks for, shown with -s
        f"\n500 concurrent misses in one process (lite mode): origin called {origin.calls} time(s)"
    )
    assert values == [b"v1"] * 500
    assert origin.calls == 1


async def test_concurrent_misses_share_the_origins_exception(caches: Caches) -> None:
    """Callers waiting on a failing load all see its error; the next miss tries again."""
    cache = caches.named(unique("failing"))
    origin = Origin(delay_s=0.01)
    origin.error = RuntimeError("origin down")
    results = await asyncio.gather(
        *(cache.get_or_load("k", origin, ttl_s=60) for _ in range(20)), return_exceptions=True
    )
    assert origin.calls == 1
    assert all(isinstance(result, RuntimeError) for result in results)
    origin.error = None
    assert await cache.get_or_load("k", origin, ttl_s=60) == b"v1"
    assert origin.calls == 2


async def test_a_cancelled_caller_does_not_cancel_the_shared_load(caches: Caches) -> None:
    """The first caller going away leaves the load running for the others."""
    cache = caches.named(unique("cancel"))
    origin = Origin(delay_s=0.05)
    first = asyncio.create_task(cache.get_or_load("k", origin, ttl_s=60))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(cache.get_or_load("k", origin, ttl_s=60))
    first.cancel()
    assert await second == b"v1"
    assert origin.calls == 1


async def test_a_hit_does_not_call_the_origin_until_the_ttl_passes(caches: Caches, clock: FakeClock) -> None:
    """Within the TTL the value comes from L1; after it (no stale window) the origin is called again."""
    cache = caches.named(unique("ttl"), stale_s=0)
    origin = Origin()
    await cache.get_or_load("k", origin, ttl_s=5)
    clock.now += 4.9
    await cache.get_or_load("k", origin, ttl_s=5)
    assert origin.calls == 1
    clock.now += 0.1
    origin.value = b"v2"
    assert await cache.get_or_load("k", origin, ttl_s=5) == b"v2"
    assert origin.calls == 2


async def test_stale_while_revalidate_serves_stale_and_refreshes_once(
    caches: Caches, clock: FakeClock
) -> None:
    """Past its TTL but inside the stale window: callers get the old value at once, one refresh runs."""
    name = unique("swr")
    cache = caches.named(name, stale_s=30)
    origin = Origin(delay_s=0.02)
    await cache.get_or_load("k", origin, ttl_s=5)
    clock.now += 6
    origin.value = b"v2"
    stale = await asyncio.gather(*(cache.get_or_load("k", origin, ttl_s=5) for _ in range(50)))
    assert stale == [b"v1"] * 50
    assert sample("folio_cache_stale_serves_total", name, "l1") == 50
    await asyncio.sleep(0.05)
    assert origin.calls == 2
    assert await cache.get_or_load("k", origin, ttl_s=5) == b"v2"
    clock.now += 5 + 30
    origin.value = b"v3"
    assert await cache.get_or_load("k", origin, ttl_s=5) == b"v3"


async def test_a_failed_background_refresh_keeps_serving_stale(caches: Caches, clock: FakeClock) -> None:
    """A refresh that fails is logged, and the stale value still answers."""
    cache = caches.named(unique("swr-failing"), stale_s=30)
    origin = Origin()
    await cache.get_or_load("k", origin, ttl_s=5)
    clock.now += 6
    origin.error = RuntimeError("origin down")
    assert await cache.get_or_load("k", origin, ttl_s=5) == b"v1"
    await asyncio.sleep(0.01)
    assert origin.calls == 2
    assert await cache.get_or_load("k", origin, ttl_s=5) == b"v1"


async def test_invalidate_and_invalidate_tag_in_lite_mode(caches: Caches) -> None:
    """Invalidation drops the key, or every key of the tag, so the next read loads again."""
    cache = caches.named(unique("invalidate"))
    origin = Origin()
    await cache.get_or_load("a", origin, ttl_s=60, tags=["shop:1"])
    await cache.get_or_load("b", origin, ttl_s=60, tags=["shop:1"])
    await cache.get_or_load("c", origin, ttl_s=60, tags=["shop:2"])
    assert origin.calls == 3
    await cache.invalidate("c")
    await cache.get_or_load("c", origin, ttl_s=60)
    assert origin.calls == 4
    await cache.invalidate_tag("shop:1")
    for key in "abc":
        await cache.get_or_load(key, origin, ttl_s=60)
    assert origin.calls == 6


async def test_metrics_count_hits_misses_evictions_and_origin_calls(caches: Caches) -> None:
    """Each read lands in exactly one counter per layer, labelled with the cache's name."""
    name = unique("metrics")
    cache = caches.named(name, l1_entries=1)
    origin = Origin()
    await cache.get_or_load("a", origin, ttl_s=60)
    await cache.get_or_load("a", origin, ttl_s=60)
    await cache.get_or_load("b", origin, ttl_s=60)
    assert sample("folio_cache_misses_total", name, "l1") == 2
    assert sample("folio_cache_hits_total", name, "l1") == 1
    assert sample("folio_cache_evictions_total", name, "l1") == 1
    assert sample("folio_cache_origin_calls_total", name) == 2
    assert sample("folio_cache_origin_seconds_count", name) == 2


async def test_cached_decodes_the_loaders_type(caches: Caches) -> None:
    """``Cached[T]`` hands back a ``T`` and stores its JSON."""

    class Principal(BaseModel):
        id: int
        roles: list[str]

    typed = Cached(caches.named(unique("typed")), Principal)

    async def load() -> Principal:
        return Principal(id=7, roles=["staff"])

    assert await typed.get_or_load("p:7", load, ttl_s=60) == Principal(id=7, roles=["staff"])
    held = typed.cache.local.get("p:7")
    assert held is not None
    assert held.value == b'{"id":7,"roles":["staff"]}'


def test_named_returns_one_cache_per_name_and_refuses_other_bounds(caches: Caches) -> None:
    """Asking twice gives the same cache; asking with other bounds is an error."""
    name = unique("named")
    cache = caches.named(name, l1_entries=10)
    assert caches.named(name, l1_entries=10) is cache
    assert caches.lite
    with pytest.raises(ValueError, match="other bounds"):
        caches.named(name, l1_entries=11)
