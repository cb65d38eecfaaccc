"""The process's caches: built by name from settings, sharing one Redis client and one listener.

Why one object per process: every named cache of a process shares the Redis connection
pool and a single pub/sub subscription (one connection, not one per cache), and the
listener routes each invalidation to the named cache's L1. ``folio.bootstrap`` provides
it as ``CACHES`` and the platform closes it.

The listener starts on the first read, not when built (bootstrap connects to nothing),
and that first read waits (up to ``subscribe_timeout_s``, once) until the subscription
is live, so no L1 is filled before this process can hear invalidations. When the
subscription drops, redis-py reconnects and resubscribes (or the listener does, backing
off to 2 s); either way every L1 is cleared once subscribed again, because messages sent
in between were lost: the staleness bound holds without trusting the gap was quiet.

Lite mode (no Redis client): every cache is L1 only and invalidation is local; the API
is the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from typing import Any

import structlog

from folio.core.background import stop_tasks
from folio.core.cache.broadcast import Invalidation
from folio.core.cache.hierarchy import Cache, Random
from folio.core.cache.local import Clock, LocalCache
from folio.core.cache.metrics import EVICTIONS
from folio.core.cache.shared import RedisClient, SharedCache
from folio.core.platform import Slot
from folio.core.settings.cache import CacheSettings

__all__ = ["CACHES", "Caches"]

log = structlog.get_logger("folio.cache")

_RECONNECT_FIRST_S = 0.05
_RECONNECT_MAX_S = 2.0


class Caches:
    """The named caches of one process, on ``redis`` (None: lite mode, L1 only)."""

    def __init__(
        self,
        settings: CacheSettings,
        *,
        redis: RedisClient | None = None,
        namespace: str = "folio",
        clock: Clock = time.time,
        random: Random = random.random,
    ) -> None:
        """Own ``redis`` (``aclose`` closes it); ``namespace`` prefixes every key and the channel.

        ``clock`` and ``random`` (early refresh's draws) are the caches'; tests pass fakes.
        """
        self.settings = settings
        self.sender = uuid.uuid4().hex
        self._redis = redis
        self._namespace = namespace
        self._channel = f"{namespace}:cache:invalidations"
        self._clock = clock
        self._random = random
        self._caches: dict[str, Cache] = {}
        self._listener: asyncio.Task[None] | None = None
        self._pubsub: Any = None  # the listener's subscription, closed again by aclose
        self._subscribed = asyncio.Event()
        self._waited = False

    @property
    def lite(self) -> bool:
        """Whether the caches are L1 only (no Redis)."""
        return self._redis is None

    def named(
        self,
        name: str,
        *,
        l1_ttl_s: float | None = None,
        l1_entries: int | None = None,
        l1_bytes: int | None = None,
        stale_s: float | None = None,
        early_refresh_beta: float | None = None,
    ) -> Cache:
        """The cache called ``name``, built on first use; a bound left None is the settings' default.

        ``l1_ttl_s`` is the cache's staleness bound, ``early_refresh_beta`` turns on
        probabilistic early refresh (see ``folio.core.cache.hierarchy``).
        Asking again for a name returns the same cache; asking with other bounds is a
        ``ValueError`` (two owners would disagree about it).
        """
        settings = self.settings
        l1_ttl_s = settings.l1_ttl_s if l1_ttl_s is None else l1_ttl_s
        l1_entries = settings.l1_entries if l1_entries is None else l1_entries
        l1_bytes = settings.l1_bytes if l1_bytes is None else l1_bytes
        stale_s = settings.stale_s if stale_s is None else stale_s
        beta = settings.early_refresh_beta if early_refresh_beta is None else early_refresh_beta
        existing = self._caches.get(name)
        if existing is not None:
            local = existing.local
            held = (
                local.ttl_s,
                local.max_entries,
                local.max_bytes,
                existing.stale_s,
                existing.early_refresh_beta,
            )
            if held != (l1_ttl_s, l1_entries, l1_bytes, stale_s, beta):
                raise ValueError(f"cache {name!r} exists already with other bounds")
            return existing
        evictions = EVICTIONS.labels(name, "l1")
        local = LocalCache(
            ttl_s=l1_ttl_s,
            max_entries=l1_entries,
            max_bytes=l1_bytes,
            clock=self._clock,
            on_evict=evictions.inc,
        )
        shared = None
        if self._redis is not None:
            shared = SharedCache(
                self._redis,
                prefix=f"{self._namespace}:cache:{name}",
                channel=self._channel,
                stale_s=stale_s,
                clock=self._clock,
            )
        cache = Cache(
            name,
            local=local,
            shared=shared,
            stale_s=stale_s,
            lease_s=settings.lease_s,
            sender=self.sender,
            ready=self._ready,
            clock=self._clock,
            early_refresh_beta=beta,
            random=self._random,
        )
        self._caches[name] = cache
        return cache

    async def aclose(self) -> None:
        """Stop the listener, cancel loads in flight, close the Redis client."""
        if self._listener is not None:
            await stop_tasks([self._listener])
        if self._pubsub is not None:
            # A listener stopped while it subscribed may not have closed its connection.
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            self._pubsub = None
        for cache in self._caches.values():
            await cache.aclose()
        if self._redis is not None:
            await self._redis.aclose()

    async def _ready(self) -> None:
        if self._redis is None or self._subscribed.is_set():
            return
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(self._redis))
        if not self._waited:
            # Once: while Redis is down, reads must not each pay the timeout.
            self._waited = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._subscribed.wait(), self.settings.subscribe_timeout_s)

    async def _listen(self, redis: RedisClient) -> None:
        delay = _RECONNECT_FIRST_S
        while True:
            pubsub = self._pubsub = redis.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                if self._subscribed.is_set():
                    self._clear_local("resubscribed")
                self._subscribed.set()
                delay = _RECONNECT_FIRST_S
                if pubsub.connection is not None:
                    pubsub.connection.register_connect_callback(self._on_reconnect)
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        self._apply(message["data"])
            # Broad on purpose: redis-py's errors are not the builtin ones and the kernel may
            # not import them; the listener must outlive any of them.
            except Exception as error:  # noqa: BLE001
                log.warning("cache invalidation channel lost", error=repr(error), retry_in_s=delay)
            finally:
                if pubsub.connection is not None:
                    pubsub.connection.deregister_connect_callback(self._on_reconnect)
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RECONNECT_MAX_S)

    async def _on_reconnect(self, _connection: Any) -> None:
        """redis-py reconnected the subscription (and resubscribed): what was sent meanwhile is lost."""
        self._clear_local("reconnected")

    def _clear_local(self, why: str) -> None:
        log.warning("cache invalidations may have been missed: clearing every L1", why=why)
        for cache in self._caches.values():
            cache.local.clear()

    def _apply(self, data: bytes) -> None:
        try:
            message = Invalidation.decode(data)
        except (ValueError, KeyError, TypeError):
            log.warning("cache invalidation message unreadable", data=data[:200])
            return
        cache = self._caches.get(message.cache)
        if cache is None or message.sender == self.sender:
            return
        if message.key is not None:
            cache.local.pop(message.key)
        if message.tag is not None:
            cache.local.pop_tag(message.tag)


CACHES: Slot[Caches] = Slot("caches")
"""The process's caches (``folio.bootstrap`` provides them; the platform closes them)."""
