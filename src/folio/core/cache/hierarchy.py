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

Probabilistic early refresh (XFetch; Vattani, Chierichetti and Lowenstein, "Optimal
Probabilistic Cache Stampede Prevention", VLDB 2015): with ``early_refresh_beta > 0`` a
hit on a fresh value starts that background refresh with probability
``exp(-time_left / (load_s * beta))``, where ``load_s`` is how long the origin took for
that value: nearly never far from expiry, more and more often as it nears, sooner for
values slow to load. The value keeps being served meanwhile. Off (0) by default: it
spends origin calls to keep hot keys from ever expiring, which only some caches want;
1 is the paper's choice, more refreshes earlier.

Staleness bound: after ``invalidate``/``invalidate_tag`` returns, L2 no longer has the
value and the broadcast is published (one Lua script). Another process's L1 keeps its
copy until the message arrives (normally well under a millisecond on one host); if its
subscription dropped, it clears its whole L1 when it resubscribes; in any case no L1
copy outlives ``l1_ttl_s``. That TTL is the bound.

Loads racing an invalidation: a read that fetched the old value before an invalidation
and stores it after would bring it back. In L2 the invalidation bumps a generation
counter that the load read (with its lease) before calling the origin, and the fill
script stores nothing if it moved (``shared``); in L1 a watch opened before the read
sees the invalidation, local or broadcast, and ``put`` refuses the value (``local``).
Lite mode has only the watches, which is all it needs: every invalidation is local. The
caller whose read overlapped the invalidation still gets the value it read.

Writes: ``write_through`` writes the origin, then the value to L2 and this L1, and drops
it from the other processes' L1 (``folio.core.cache.writeback`` buffers writes instead).

When Redis is down the cache degrades rather than fails: an L2 or lease error is logged
and the read goes on to the origin, L1 still serving this process.
"""

from __future__ import annotations

import asyncio
import math
import random
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

__all__ = ["Cache", "Loader", "Random", "refresh_early"]

log = structlog.get_logger("folio.cache")

R = TypeVar("R")

Loader = Callable[[], Awaitable[bytes]]
"""Reads the value from the origin and returns it encoded (the caller's codec)."""

Random = Callable[[], float]
"""Uniform floats in [0, 1) (``random.random``); tests pass a seeded ``random.Random(...).random``."""

_LAYERS = ("l1", "l2")
_POLL_FIRST_S = 0.005
_POLL_MAX_S = 0.05


def refresh_early(entry: Entry, now: float, *, beta: float, random: Random) -> bool:
    """XFetch: whether a hit at ``now`` on the fresh ``entry`` should start a background refresh.

    True with probability ``exp(-(entry.fresh_until - now) / (entry.load_s * beta))``: the
    test ``now - load_s * beta * ln(u) >= fresh_until`` for ``u`` uniform in (0, 1].
    Never for an entry loaded in no time or with ``beta = 0``.
    """
    return now - entry.load_s * beta * math.log(1.0 - random()) >= entry.fresh_until


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
        early_refresh_beta: float = 0.0,
        random: Random = random.random,
    ) -> None:
        """``sender`` names this process in broadcasts; ``ready`` waits until it hears them."""
        if early_refresh_beta < 0:
            raise ValueError("early_refresh_beta may not be negative")
        self.name = name
        self.local = local
        self._shared = shared
        self.stale_s = stale_s
        self.early_refresh_beta = early_refresh_beta
        self._lease_s = lease_s
        self._sender = sender
        self._ready = ready
        self._clock = clock
        self._random = random
        self._reads: SingleFlight[bytes] = SingleFlight()
        self._loads: SingleFlight[Entry] = SingleFlight()
        # Labelled once: a ``labels()`` lookup per read costs more than the L1 hit itself.
        self._hits = {layer: metrics.HITS.labels(name, layer) for layer in _LAYERS}
        self._misses = {layer: metrics.MISSES.labels(name, layer) for layer in _LAYERS}
        self._stale_serves = {layer: metrics.STALE_SERVES.labels(name, layer) for layer in _LAYERS}

    async def get_or_load(self, key: str, loader: Loader, *, ttl_s: float, tags: Sequence[str] = ()) -> bytes:
        """The value of ``key``: from L1, else L2, else ``loader()``, which is then cached for ``ttl_s``.

        ``tags`` are attached when the value is loaded, for ``invalidate_tag``. Concurrent
        misses of one key share one load (and its exception); see the module docstring.
        """
        await self._ready()
        entry = self.local.get(key)
        if entry is not None:
            self._serve(key, entry, "l1", loader=loader, ttl_s=ttl_s, tags=tags)
            return entry.value
        self._misses["l1"].inc()
        return await self._reads.run(key, lambda: self._read_through(key, loader, ttl_s, tuple(tags)))

    async def write_through(
        self,
        key: str,
        value: bytes,
        write: Callable[[], Awaitable[object]],
        *,
        ttl_s: float,
        tags: Sequence[str] = (),
    ) -> None:
        """Write the origin with ``write()``, then make ``value`` the cached value of ``key`` for ``ttl_s``.

        If ``write()`` raises, the cache is untouched and the error propagates. Otherwise
        one script stores ``value`` in L2, stops loads of the old value in flight from
        filling, and tells every other process to drop its L1 copy (it reads the new one
        from L2); this L1 holds ``value``. Two processes writing one key at once may leave
        the cache with the value whose origin write lost until ``ttl_s``: use it for keys
        with one writer at a time (or invalidate instead). If Redis fails, the error is
        logged and the other processes may serve the old value until their L1 TTL.
        """
        await write()
        self.local.pop(key)
        entry = self._entry(value, ttl_s, tuple(tags), load_s=0.0)
        if self._shared is not None:
            message = Invalidation(self._sender, self.name, key=key).encode()
            await self._shared_call(self._shared.write(key, entry, message))
        self.local.put(key, entry)

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

    def _serve(
        self, key: str, entry: Entry, layer: str, *, loader: Loader, ttl_s: float, tags: Sequence[str]
    ) -> None:
        """Count a usable ``entry`` served from ``layer``; refresh it behind if stale or due early."""
        now = self._clock()
        if not entry.is_fresh(now):
            self._stale_serves[layer].inc()
            self._refresh_in_background(key, loader, ttl_s, tags)
            return
        self._hits[layer].inc()
        if self.early_refresh_beta and refresh_early(
            entry, now, beta=self.early_refresh_beta, random=self._random
        ):
            if not self._loads.running(key):
                metrics.EARLY_REFRESHES.labels(self.name).inc()
            self._refresh_in_background(key, loader, ttl_s, tags)

    async def _read_through(self, key: str, loader: Loader, ttl_s: float, tags: tuple[str, ...]) -> bytes:
        if self._shared is not None:
            with self.local.watch(key) as watch:
                entry = await self._shared_call(self._shared.get(key))
                if entry is not None and entry.is_usable(self._clock()):
                    self.local.put(key, entry, watch=watch)
                    self._serve(key, entry, "l2", loader=loader, ttl_s=ttl_s, tags=tags)
                    return entry.value
            self._misses["l2"].inc()
        entry = await self._loads.run(key, lambda: self._load(key, loader, ttl_s, tags))
        return entry.value

    def _refresh_in_background(self, key: str, loader: Loader, ttl_s: float, tags: Sequence[str]) -> None:
        if self._loads.running(key):
            return
        task = self._loads.start(key, lambda: self._load(key, loader, ttl_s, tuple(tags)))
        task.add_done_callback(self._log_failed_refresh)

    def _log_failed_refresh(self, task: asyncio.Task[Entry]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.warning("cache refresh failed", cache=self.name, exc_info=task.exception())

    async def _load(self, key: str, loader: Loader, ttl_s: float, tags: tuple[str, ...]) -> Entry:
        """The value from the origin or another process's load; kept in L1 unless invalidated meanwhile."""
        with self.local.watch(key) as watch:
            entry, current = await self._fetch(key, loader, ttl_s, tags)
            if current:
                self.local.put(key, entry, watch=watch)
            return entry

    async def _fetch(
        self, key: str, loader: Loader, ttl_s: float, tags: tuple[str, ...]
    ) -> tuple[Entry, bool]:
        """Call the origin once across processes (the lease), or take the holder's value.

        Also says whether the value may be cached: False when L2 refused the fill (an
        invalidation ran while the origin was read).
        """
        shared = self._shared
        if shared is None:
            return await self._call_origin(loader, ttl_s, tags), True
        token = secrets.token_hex(8)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._lease_s
        generations: tuple[str, ...] | None = None
        while loop.time() < deadline:
            lease = await self._shared_call(shared.acquire_lease(key, token, ttl_s=self._lease_s, tags=tags))
            if lease is None:  # Redis is unreachable: load alone
                break
            generations = lease.generations
            if lease.taken:
                try:
                    entry = await self._call_origin(loader, ttl_s, tags)
                except BaseException:
                    await self._shared_call(shared.release_lease(key, token))
                    raise
                return entry, await self._fill(shared, key, entry, generations, token)
            filled = await self._await_fill(shared, key, deadline)
            if filled is not None:
                return filled, True
        entry = await self._call_origin(loader, ttl_s, tags)
        if generations is None:  # no generations to check a fill against: L1 only
            return entry, True
        return entry, await self._fill(shared, key, entry, generations, "")

    async def _fill(
        self, shared: SharedCache, key: str, entry: Entry, generations: tuple[str, ...], token: str
    ) -> bool:
        """Fill L2 unless an invalidation since ``generations`` were read forbids it; whether to keep it."""
        stored = await self._shared_call(shared.fill(key, entry, generations=generations, lease_token=token))
        if stored is False:
            metrics.FILLS_REFUSED.labels(self.name).inc()
            return False
        # None: Redis failed during the fill; L1 keeps the value as when Redis is down (under its watch).
        return True

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
        started_at = self._clock()
        try:
            value = await loader()
        finally:
            metrics.ORIGIN_SECONDS.labels(self.name).observe(time.perf_counter() - started)
        return self._entry(value, ttl_s, tags, load_s=max(self._clock() - started_at, 0.0))

    def _entry(self, value: bytes, ttl_s: float, tags: tuple[str, ...], *, load_s: float) -> Entry:
        fresh_until = self._clock() + ttl_s
        return Entry(
            value=value,
            fresh_until=fresh_until,
            stale_until=fresh_until + self.stale_s,
            tags=tags,
            load_s=load_s,
        )

    async def _shared_call(self, call: Awaitable[R]) -> R | None:
        """``call``'s result, or None (logged) when Redis fails: the cache degrades to L1 and the origin."""
        try:
            return await call
        # Broad on purpose: redis-py's errors are not the builtin ones and the kernel may
        # not import them; whatever L2 raises, the origin can still answer.
        except Exception as error:  # noqa: BLE001
            log.warning("cache L2 unavailable", cache=self.name, error=repr(error))
            return None
