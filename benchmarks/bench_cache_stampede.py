"""Cache stampede: 500 concurrent misses for one key, Folio's cache vs naive cache-aside vs no cache.

The origin is simulated in the process: it serves ``ORIGIN_CAPACITY`` calls at a time,
each taking ``ORIGIN_S`` (``asyncio.sleep``), as a database with a pool of 10 running a
20 ms query would; it counts its calls. Redis is the services' server.

- Folio: ``folio.core.cache`` on Redis, the 500 waiters split over two ``Caches`` (two
  L1s, two clients, as two processes would be; one event loop here): single flight in
  each, the load lease between them.
- Naive cache-aside: ``GET``, and on a miss load the origin and ``SET`` it; every waiter
  that missed loads.
- No cache: every waiter calls the origin.

Each side runs ``ROUNDS`` times on a fresh key, rounds interleaved; reported are the
medians of the rounds: the p50 and p99 of the 500 waits, and the origin calls. The ratio
is the peer's p99 over Folio's.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from benchmarks.harness import BenchResult, Measurement
from folio.core.cache import Caches
from folio.core.settings import load_settings
from folio.core.settings.cache import CacheSettings

NAME = "cache_stampede"
WAITERS = 500
ORIGIN_CAPACITY = 10
ORIGIN_S = 0.02
ROUNDS = int(os.environ.get("FOLIO_BENCH_REPEATS", "5"))

Reader = Callable[[str, int], Awaitable[bytes]]
"""Reads a key for waiter number ``index``."""


class SlowOrigin:
    """``ORIGIN_CAPACITY`` calls at a time, ``ORIGIN_S`` each; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self._capacity = asyncio.Semaphore(ORIGIN_CAPACITY)

    async def __call__(self) -> bytes:
        """One origin read."""
        self.calls += 1
        async with self._capacity:
            await asyncio.sleep(ORIGIN_S)
        return b"x" * 200


async def _stampede(read: Reader, key: str) -> list[float]:
    """``WAITERS`` concurrent reads of ``key``; each one's wait in seconds."""

    async def timed(index: int) -> float:
        started = time.perf_counter()
        await read(key, index)
        return time.perf_counter() - started

    return list(await asyncio.gather(*(timed(index) for index in range(WAITERS))))


def _percentile(waits: list[float], share: float) -> float:
    ordered = sorted(waits)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def _measurement(label: str, rounds: list[tuple[list[float], int]]) -> Measurement:
    """The medians over rounds of (waits, origin calls), the calls in the label."""
    calls = statistics.median(calls for _, calls in rounds)
    seconds = statistics.median(max(waits) for waits, _ in rounds)
    return Measurement(
        label=f"{label} ({calls:g} origin calls)",
        requests=WAITERS * len(rounds),
        seconds=seconds,
        rps=WAITERS / seconds,
        p50_ms=statistics.median(_percentile(waits, 0.5) for waits, _ in rounds) * 1000,
        p99_ms=statistics.median(_percentile(waits, 0.99) for waits, _ in rounds) * 1000,
        errors=0,
    )


async def _measure() -> dict[str, Measurement]:
    url = load_settings().services.redis.urls[0]
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    processes = [Caches(CacheSettings(), redis=Redis.from_url(url), namespace=namespace) for _ in range(2)]
    caches = [process.named("stampede") for process in processes]
    # A connection per waiter: the naive side never waits for the pool (the kindest setting for it).
    naive_redis = Redis.from_url(url, max_connections=WAITERS)
    rounds: dict[str, list[tuple[list[float], int]]] = {"folio": [], "naive": [], "none": []}
    try:
        for round_ in range(ROUNDS):
            for side, measured in rounds.items():
                origin = SlowOrigin()
                key = f"{side}-{round_}"

                async def folio_read(key: str, index: int, origin: SlowOrigin = origin) -> bytes:
                    return await caches[index % 2].get_or_load(key, origin, ttl_s=60)

                async def naive_read(key: str, _index: int, origin: SlowOrigin = origin) -> bytes:
                    cached: bytes | str | None = await naive_redis.get(f"{namespace}:naive:{key}")
                    if cached is None:
                        cached = await origin()
                        await naive_redis.set(f"{namespace}:naive:{key}", cached, ex=60)
                    return cached if isinstance(cached, bytes) else cached.encode()

                async def uncached_read(_key: str, _index: int, origin: SlowOrigin = origin) -> bytes:
                    return await origin()

                read = {"folio": folio_read, "naive": naive_read, "none": uncached_read}[side]
                waits = await _stampede(read, key)
                measured.append((waits, origin.calls))
    finally:
        keys = [key async for key in naive_redis.scan_iter(match=f"{namespace}:*")]
        if keys:
            await naive_redis.delete(*keys)
        await naive_redis.aclose()
        for process in processes:
            await process.aclose()
    labels = {"folio": "folio cache", "naive": "naive cache-aside", "none": "no cache"}
    return {side: _measurement(labels[side], measured) for side, measured in rounds.items()}


def run() -> list[BenchResult]:
    """Folio's cache beside naive cache-aside and beside no cache: one line each, p99 ratio."""
    measured = asyncio.run(_measure())
    folio = measured["folio"]
    parameters: dict[str, object] = {
        "waiters": WAITERS,
        "origin": f"asyncio.sleep({ORIGIN_S}) behind a semaphore of {ORIGIN_CAPACITY}",
        "rounds": ROUNDS,
        "figures": "medians over rounds of the p50/p99 of the waits and of the origin calls",
    }
    description = (__doc__ or NAME).splitlines()[0]
    return [
        BenchResult(
            name=name,
            description=description,
            folio=folio,
            peer=measured[peer],
            ratio_label=f"{peer_label}/folio p99",
            ratio=measured[peer].p99_ms / folio.p99_ms,
            parameters=parameters,
        )
        for name, peer, peer_label in (
            (NAME, "naive", "naive"),
            (f"{NAME}_no_cache", "none", "no-cache"),
        )
    ]
