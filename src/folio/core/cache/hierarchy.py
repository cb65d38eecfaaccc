"""The hierarchical cache: L1 in the process, L2 in Redis, then the origin.

Read path of ``get_or_load``: L1 (no I/O) -> L2 (one ``GET``, filling L1) -> the origin
(filling both). Stampedes are stopped at two levels:

- In the process, single flight per key: however many coroutines miss one key, one of
  them reads L2 and at most one calls the origin; the others await its result (or its
  exception).
- Across processes, a load lease (``SET NX PX``, ``lease_s``): the process that takes it
  calls the origin and fills L2 (releasing the lease in the same script); the others
  poll L2 (5 ms, doubling to 50 ms) for the fresh value. If the lease disappears without
  a value (the holder's origin failed, or it died), a waiter takes the lease and loads;
  if ``lease_s`` passes (a holder slower than its lease), it loads without one. So
  ``lease_s`` should exceed the origin's slowest normal call.

Stale-while-revalidate: a value past its TTL but inside the cache's ``stale_s`` window
is served at once and one background refresh (the same single flight and lease) fetches
the new one, so a popular key's expiry costs no caller the origin's latency. With
``stale_s = 0`` an expired value is a miss.

Staleness bound: after ``invalidate``/``invalidate_tag`` returns, L2 no longer has the
value and the broadcast is published (one Lua script). Another process's L1 keeps its
copy until the message arrives (normally well under a millisecond on one host); if its
subscription dropped, it clears its whole L1 when it resubscribes; in any case no L1
copy outlives ``l1_ttl_s``. That TTL is the bound. A load that read the origin before an
invalidation and fills after it can put the old value back; its TTL bounds that too.

When Redis is down the cache degrades rather than fails: an L2 or lease error is logged
and the read goes on to the origin, L1 still serving this process.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import structlog

from folio.core.cache import metrics
from folio.core.cache.broadcast import Invalidation
from folio.core.cache.entry import Entry
from folio.core.cache.flight import SingleFlight
from folio.core.cache.local import Clock, LocalCache
from folio.core.cache.shared import SharedCache

__all__ = ["Cache", "Loader"]

log = structlog.get_logger("folio.cache")

R = TypeVar("R")

Loader = Callable[[], Awaitable[bytes]]
"""Reads the value from the origin and returns it encoded (the caller's codec)."""

_POLL_FIRST_S = 0.005
_POLL_MAX_S = 0.05


class Cache:
    """One named cache. Built by ``Caches.named``; see the module docstring for the contracts."""

    def __init__(
        self,
        name: str,
        *,
        local: LocalCache,
        shared: SharedCache | None,
        stale_s: float,
        lease_s: float,
        sender: str,
        ready: Callable[[], Awaitable[None]],
        clock: Clock = time.time,
    ) -> None:
        """``sender`` names this process in broadcasts; ``ready`` waits until it hears them."""
        self.name = name
        self.local = local
        self._shared = shared
        self.stale_s = stale_s
        self._lease_s = lease_s
        self._sender = sender
        self._ready = ready
        self._clock = clock
        self._reads: SingleFlight[bytes] = SingleFlight()
        self._loads: SingleFlight[Entry] = SingleFlight()

    async def get_or_load(self, key: str, loader: Loader, *, ttl_s: float, tags: Sequence[str] = ()) -> bytes:
        """The value of ``key``: from L1, else L2, else ``loader()``, which is then cached for ``ttl_s``.

        ``tags`` are attached when the value is loaded, for ``invalidate_tag``. Concurrent
        misses of one key share one load (and its exception); see the module docstring.
        """
        await self._ready()
        entry = self.local.get(key)
        if entry is not None:
            if entry.is_fresh(self._clock()):
                metrics.HITS.labels(self.name, "l1").inc()
            else:
                metrics.STALE_SERVES.labels(self.name, "l1").inc()
                self._refresh_in_background(key, loader, ttl_s, tuple(tags))
            return entry.value
        metrics.MISSES.labels(self.name, "l1").inc()
        return await self._reads.run(key, lambda: self._read_through(key, loader, ttl_s, tuple(tags)))

    async def invalidate(self, key: str) -> None:
        """Drop ``key`` here and from L2, and tell every other process to drop it from its L1."""
        self.local.pop(key)
        if self._shared is not None:
            await self._shared.invalidate(key, Invalidation(self._sender, self.name, key=key).encode())

    async def invalidate_tag(self, tag: str) -> None:
        """Drop every key tagged ``tag`` here and from L2, and tell every other process to."""
        self.local.pop_tag(tag)
        if self._shared is not None:
            await self._shared.invalidate_tag(tag, Invalidation(self._sender, self.name, tag=tag).encode())

    async def aclose(self) -> None:
        """Cancel the reads and refreshes in flight."""
        await self._reads.aclose()
        await self._loads.aclose()

    async def _read_through(self, key: str, loader: Loader, ttl_s: float, tags: tuple[str, ...]) -> bytes:
        if self._shared is not None:
            entry = await self._shared_call(self._shared.get(key))
            if entry is not None and entry.is_usable(self._clock()):
                self.local.put(key, entry)
                if entry.is_fresh(self._clock()):
                    metrics.HITS.labels(self.name, "l2").inc()
                else:
                    metrics.STALE_SERVES.labels(self.name, "l2").inc()
                    self._refresh_in_background(key, loader, ttl_s, tags)
                return entry.value
            metrics.MISSES.labels(self.name, "l2").inc()
        entry = await self._loads.run(key, lambda: self._load(key, loader, ttl_s, tags))
        return entry.value

    def _refresh_in_background(self, key: str, loader: Loader, ttl_s: float, tags: tuple[str, ...]) -> None:
        task = self._loads.start(key, lambda: self._load(key, loader, ttl_s, tags))
        task.add_done_callback(self._log_failed_refresh)

    def _log_failed_refresh(self, task: asyncio.Task[Entry]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.warning("cache refresh failed", cache=self.name, exc_info=task.exception())

    async def _load(self, key: str, loader: Loader, ttl_s: float, tags: tuple[str, ...]) -> Entry:
        """Call the origin once across processes (the lease), or take the holder's value."""
        shared = self._shared
        if shared is None:
            return self._keep(key, await self._call_origin(loader, ttl_s, tags))
        token = secrets.token_hex(8)
        deadline = asyncio.get_running_loop().time() + self._lease_s
        while asyncio.get_running_loop().time() < deadline:
            acquired = await self._shared_call(shared.acquire_lease(key, token, ttl_s=self._lease_s))
            if acquired is None:  # Redis is unreachable: load alone
                break
            if acquired:
                try:
                    entry = await self._call_origin(loader, ttl_s, tags)
                except BaseException:
                    await self._shared_call(shared.release_lease(key, token))
                    raise
                await self._shared_call(shared.fill(key, entry, lease_token=token))
                return self._keep(key, entry)
            filled = await self._await_fill(shared, key, deadline)
            if filled is not None:
                return self._keep(key, filled)
        entry = await self._call_origin(loader, ttl_s, tags)
        await self._shared_call(shared.fill(key, entry))
        return self._keep(key, entry)

    async def _await_fill(self, shared: SharedCache, key: str, deadline: float) -> Entry | None:
        """The holder's fresh entry; None when the lease went without one, or at ``deadline``."""
        loop = asyncio.get_running_loop()
        delay = _POLL_FIRST_S
        while (remaining := deadline - loop.time()) > 0:
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, _POLL_MAX_S)
            polled = await self._shared_call(shared.poll(key))
            if polled is None:
                return None
            entry, leased = polled
            if entry is not None and entry.is_fresh(self._clock()):
                return entry
            if not leased:
                return None
        return None

    async def _call_origin(self, loader: Loader, ttl_s: float, tags: tuple[str, ...]) -> Entry:
        metrics.ORIGIN_CALLS.labels(self.name).inc()
        started = time.perf_counter()
        try:
            value = await loader()
        finally:
            metrics.ORIGIN_SECONDS.labels(self.name).observe(time.perf_counter() - started)
        now = self._clock()
        fresh_until = now + ttl_s
        return Entry(value=value, fresh_until=fresh_until, stale_until=fresh_until + self.stale_s, tags=tags)

    def _keep(self, key: str, entry: Entry) -> Entry:
        self.local.put(key, entry)
        return entry

    async def _shared_call(self, call: Awaitable[R]) -> R | None:
        """``call``'s result, or None (logged) when Redis fails: the cache degrades to L1 and the origin."""
        try:
            return await call
        # Broad on purpose: redis-py's errors are not the builtin ones and the kernel may
        # not import them; whatever L2 raises, the origin can still answer.
        except Exception as error:  # noqa: BLE001
            log.warning("cache L2 unavailable", cache=self.name, error=repr(error))
            return None
