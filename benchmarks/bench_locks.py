"""Locks: acquire+release/s of Folio's Redlock vs pottery's Redlock and python-redis-lock, and stale writes.

All three run in this process on the same Redis instances, the three ``folio services
up`` starts for Redlock (``services.redlock``): Folio's ``Redlock`` and pottery's
``AIORedlock`` over all three, python-redis-lock on the first (it is a single-instance
lock, and synchronous).

- **Throughput**: each side takes and frees a lock on an uncontended resource ``OPS``
  times in a row, ``ROUNDS`` rounds, sides interleaved. Reported: ops/s over all rounds
  and the p50/p99 of one acquire+release. Folio's acquisition is one round trip like
  pottery's (the fencing counter moves in the same script), plus a second where the
  instances' counters disagree.
- **Paused holders**: ``PAUSES`` times, holder A takes the lock (TTL ``TTL_S``) and stalls
  past it; B takes it and writes; then A writes. Folio's writes go through the fence on
  PostgreSQL (``folio.locks.api.fence``), which refuses A's older token; the peers hand
  out no token, so the resource cannot tell A's write is stale and accepts it after B's.
  A violation is a write accepted out of acquisition order. A stall stands for a
  SIGSTOP here because none of the three renews in the background as configured;
  tests/integration/locks/test_contention.py does it with SIGSTOP across processes.

Each result line compares Folio with one peer (ops/s ratio); the violations are in the labels.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import redis
import redis_lock  # type: ignore[import-untyped]  # python-redis-lock ships no type information
from pottery import AIORedlock
from pottery.exceptions import ReleaseUnlockedLock
from redis.asyncio import Redis
from sqlalchemy import delete

from benchmarks.harness import BenchResult, Measurement
from folio.core.db import Database
from folio.core.migrations import upgrade
from folio.core.settings import Settings, load_settings
from folio.locks.api import FencingError, Redlock, fence
from folio.locks.models import LockFence

NAME = "locks"
OPS = int(os.environ.get("FOLIO_BENCH_LOCK_OPS", "500"))
ROUNDS = int(os.environ.get("FOLIO_BENCH_REPEATS", "3"))
PAUSES = 3
TTL_S = 1
"""Whole seconds: python-redis-lock takes its expiry as an integer."""
STALL_S = TTL_S + 0.2
FOLIO_ENV = {"FOLIO_DATABASE_BACKEND": "postgres", "FOLIO_LOGGING_LEVEL": "WARNING"}

Pair = Callable[[str], Awaitable[None]]
"""Acquires and releases the lock on a resource once."""


class Sides:
    """The three lock clients on the same instances, and the database Folio's fence writes to."""

    def __init__(self, settings: Settings, database: Database, namespace: str) -> None:
        urls = settings.services.redlock.urls
        self.namespace = namespace
        self.database = database
        self.folio = Redlock.from_urls(urls, settings.locks, namespace=namespace)
        self.masters = [Redis.from_url(url) for url in urls]
        self.single = redis.Redis.from_url(urls[0])

    async def folio_pair(self, resource: str) -> None:
        """Folio: ``acquire`` (no waiting) and ``release``."""
        lease = await self.folio.acquire(resource, ttl_s=10, wait_s=0)
        await self.folio.release(lease)

    async def pottery_pair(self, resource: str) -> None:
        """pottery: a non-blocking ``acquire`` and ``release`` of an ``AIORedlock``."""
        lock = AIORedlock(key=f"{self.namespace}:{resource}", masters=self.masters, auto_release_time=10)
        if not await lock.acquire(blocking=False):
            raise RuntimeError("pottery did not get an uncontended lock")
        await lock.release()

    def single_pair(self, resource: str) -> None:
        """python-redis-lock: a non-blocking ``acquire`` and ``release`` (synchronous)."""
        lock = redis_lock.Lock(self.single, f"{self.namespace}:{resource}", expire=10)
        if not lock.acquire(blocking=False):
            raise RuntimeError("python-redis-lock did not get an uncontended lock")
        lock.release()

    async def aclose(self) -> None:
        """Delete the namespace's keys on every instance and close the clients."""
        for master in self.masters:
            keys = [key async for key in master.scan_iter(match=f"*{self.namespace}*")]
            if keys:
                await master.delete(*keys)
        await self.folio.aclose()
        for master in self.masters:
            await master.aclose()
        self.single.close()


def _out_of_order(tickets: list[int]) -> int:
    """Writes accepted after a write of a later holder (a violation each)."""
    newest, count = 0, 0
    for ticket in tickets:
        if ticket < newest:
            count += 1
        newest = max(newest, ticket)
    return count


async def _folio_violations(sides: Sides) -> int:
    """Paused holders with Folio: the stale holder's write goes through the fence."""
    resource = f"bench:{sides.namespace}:folio"
    accepted: list[int] = []

    async def write(token: int) -> None:
        try:
            await sides.database.run(lambda session: fence(session, resource=resource, token=token))
        except FencingError:
            return
        accepted.append(token)

    try:
        for _ in range(PAUSES):
            stalled = await sides.folio.acquire(resource, ttl_s=TTL_S, wait_s=0)
            await asyncio.sleep(STALL_S)
            current = await sides.folio.acquire(resource, ttl_s=TTL_S, wait_s=1)
            await write(current.fencing_token)
            await write(stalled.fencing_token)
            await sides.folio.release(current)
            await sides.folio.release(stalled)
    finally:
        await sides.database.run(
            lambda session: session.execute(delete(LockFence).where(LockFence.resource == resource))
        )
    return _out_of_order(accepted)


async def _pottery_violations(sides: Sides) -> int:
    """Paused holders with pottery: both writes are accepted, the stale one last."""
    key = f"{sides.namespace}:paused"
    accepted: list[int] = []
    for round_ in range(PAUSES):
        stalled = AIORedlock(key=key, masters=sides.masters, auto_release_time=TTL_S)
        await stalled.acquire(blocking=False)
        await asyncio.sleep(STALL_S)
        current = AIORedlock(key=key, masters=sides.masters, auto_release_time=TTL_S)
        await current.acquire(timeout=1)
        accepted.extend([2 * round_ + 2, 2 * round_ + 1])  # B (acquired second) writes, then A
        await current.release()
        with contextlib.suppress(ReleaseUnlockedLock):  # its lease ended long ago, as pottery says
            await stalled.release()
    return _out_of_order(accepted)


def _single_violations(sides: Sides) -> int:
    """Paused holders with python-redis-lock: both writes are accepted, the stale one last."""
    name = f"{sides.namespace}:paused"
    accepted: list[int] = []
    for round_ in range(PAUSES):
        stalled = redis_lock.Lock(sides.single, name, expire=TTL_S)
        stalled.acquire(blocking=False)
        time.sleep(STALL_S)
        current = redis_lock.Lock(sides.single, name, expire=TTL_S)
        current.acquire(timeout=1)
        accepted.extend([2 * round_ + 2, 2 * round_ + 1])
        current.release()
        with contextlib.suppress(redis_lock.NotAcquired):  # expired and taken by another
            stalled.release()
    return _out_of_order(accepted)


async def _timed_async(pair: Pair, resource: str) -> list[float]:
    waits = []
    for _ in range(OPS):
        started = time.perf_counter()
        await pair(resource)
        waits.append(time.perf_counter() - started)
    return waits


def _timed_sync(pair: Callable[[str], None], resource: str) -> list[float]:
    waits = []
    for _ in range(OPS):
        started = time.perf_counter()
        pair(resource)
        waits.append(time.perf_counter() - started)
    return waits


def _percentile(waits: list[float], share: float) -> float:
    ordered = sorted(waits)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def _measurement(label: str, waits: list[float]) -> Measurement:
    seconds = sum(waits)
    return Measurement(
        label=label,
        requests=len(waits),
        seconds=seconds,
        rps=len(waits) / seconds,
        p50_ms=statistics.median(waits) * 1000,
        p99_ms=_percentile(waits, 0.99) * 1000,
        errors=0,
    )


async def _run(settings: Settings) -> list[BenchResult]:
    database = Database.from_urls(settings.database, settings.database_url)
    sides = Sides(settings, database, f"bench-{uuid.uuid4().hex[:8]}")
    waits: dict[str, list[float]] = {"folio": [], "pottery": [], "single": []}
    try:
        for _ in range(ROUNDS):
            waits["folio"] += await _timed_async(sides.folio_pair, "throughput")
            waits["pottery"] += await _timed_async(sides.pottery_pair, "throughput")
            waits["single"] += _timed_sync(sides.single_pair, "throughput")
        violations = {
            "folio": await _folio_violations(sides),
            "pottery": await _pottery_violations(sides),
            "single": _single_violations(sides),
        }
    finally:
        await sides.aclose()
        await database.dispose()
    labels = {
        "folio": "folio Redlock (3 instances, fenced)",
        "pottery": "pottery AIORedlock (3 instances)",
        "single": "python-redis-lock (1 instance)",
    }
    measured = {
        side: _measurement(f"{labels[side]}, {violations[side]}/{PAUSES} stale writes accepted", side_waits)
        for side, side_waits in waits.items()
    }
    parameters: dict[str, object] = {
        "ops_per_round": OPS,
        "rounds": ROUNDS,
        "paused_holders": PAUSES,
        "ttl_s": TTL_S,
        "stall_s": STALL_S,
        "violations": violations,
        "figures": "ops/s over all rounds; p50/p99 of one acquire+release (ms)",
    }
    return [
        BenchResult.comparing(
            __doc__,
            name=f"{NAME}_{peer}",
            folio=measured["folio"],
            peer=measured[peer],
            ratio_label=f"folio/{label} acquire+release/s",
            parameters=parameters,
        )
        for peer, label in (("pottery", "pottery"), ("single", "python-redis-lock"))
    ]


def run() -> list[BenchResult]:
    """Folio's Redlock beside pottery's and python-redis-lock, on the services' Redlock instances."""
    os.environ.update(FOLIO_ENV)
    settings = load_settings()
    upgrade(settings.database_migration_url)
    return asyncio.run(_run(settings))
