"""Rate limits and counters in Redis (or in memory in lite mode), through the `limits` library.

The moving-window strategy counts each hit's timestamp, so a client can never send
more than N requests in any window of the configured length (no burst at window
edges). Rates use the `limits` notation: ``"100/minute"``, ``"5/second;1000/day"``.

Key contracts:

- ``hit`` consumes one unit and says whether it was allowed, how many remain, and
  when the window frees up: everything the ``RateLimit-*`` and ``Retry-After``
  headers need.
- ``counter_add``/``counter_get`` are plain expiring counters on the same storage
  (usage metering reads them).
- Nothing connects until the first call; ``aclose`` releases the connection pool.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

__all__ = ["RateLimitDecision", "RateLimiter", "async_storage_uri"]


def async_storage_uri(cache_url: str) -> str:
    """The `limits` async storage URI for ``Settings.cache_url`` (``redis://`` or ``memory://``)."""
    scheme, _, rest = cache_url.partition("://")
    if scheme in {"redis", "rediss", "memory"}:
        return f"async+{scheme}://{rest}"
    raise ValueError(f"unsupported cache URL scheme {scheme!r}; use redis://, rediss:// or memory://")


@dataclass(frozen=True)
class RateLimitDecision:
    """The outcome of one hit against the tightest of a rate's limits."""

    allowed: bool
    limit: int
    remaining: int
    reset_after_s: int
    window_s: int

    @property
    def policy(self) -> str:
        """The ``RateLimit-Policy`` value: ``<limit>;w=<window seconds>``."""
        return f"{self.limit};w={self.window_s}"

    def headers(self) -> dict[str, str]:
        """``RateLimit-Limit/-Remaining/-Reset/-Policy`` (IETF draft), plus ``Retry-After`` when refused."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_after_s),
            "RateLimit-Policy": self.policy,
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(self.reset_after_s, 1))
        return headers


class RateLimiter:
    """Moving-window rate limits and expiring counters on one `limits` storage."""

    def __init__(self, cache_url: str, *, namespace: str = "folio") -> None:
        uri = async_storage_uri(cache_url)
        # redis-py rather than `limits`' default coredis: one Redis client library in
        # Folio, and one whose connections ``aclose`` can release.
        options = {"implementation": "redispy"} if uri.startswith("async+redis") else {}
        self._storage: Storage = storage_from_string(uri, **options)  # type: ignore[assignment]
        self._strategy = MovingWindowRateLimiter(self._storage)
        self._namespace = namespace

    async def hit(self, rate: str, *key: str) -> RateLimitDecision:
        """Consume one unit of every limit in ``rate`` for ``key``; report the tightest.

        When one limit refuses, no unit is consumed from the ones checked after it,
        so a refused request does not eat into the other windows.
        """
        tightest: RateLimitDecision | None = None
        for item in parse_many(rate):
            allowed = await self._strategy.hit(item, self._namespace, *key)
            decision = await self._decision(item, key, allowed=allowed)
            if tightest is None or not allowed or decision.remaining < tightest.remaining:
                tightest = decision
            if not allowed:
                break
        if tightest is None:
            raise ValueError(f"rate {rate!r} names no limit")
        return tightest

    async def clear(self, rate: str, *key: str) -> None:
        """Forget every hit counted for ``key`` under ``rate`` (an unlocked account starts afresh)."""
        for item in parse_many(rate):
            await self._strategy.clear(item, self._namespace, *key)

    async def counter_add(self, key: str, amount: int = 1, *, expiry_s: int) -> int:
        """Add ``amount`` to an expiring counter and return its new value."""
        return await self._storage.incr(f"{self._namespace}:{key}", expiry_s, amount)

    async def counter_get(self, key: str) -> int:
        """The counter's value, 0 when it does not exist (or expired)."""
        return await self._storage.get(f"{self._namespace}:{key}")

    async def check(self) -> None:
        """Raise unless the storage answers (a readiness check)."""
        if not await self._storage.check():
            raise ConnectionError("the rate-limit storage did not answer")

    async def aclose(self) -> None:
        """Release the storage's connections, if it keeps any (Redis does; memory does not)."""
        # `limits` exposes no close(); its Redis storage keeps the redis-py client on a
        # "bridge". Left open, the socket outlives the limiter (a ResourceWarning).
        bridge = getattr(self._storage, "bridge", None)
        if bridge is not None:
            await bridge.storage.aclose()

    async def _decision(
        self, item: RateLimitItem, key: tuple[str, ...], *, allowed: bool
    ) -> RateLimitDecision:
        stats = await self._strategy.get_window_stats(item, self._namespace, *key)
        return RateLimitDecision(
            allowed=allowed,
            limit=item.amount,
            remaining=max(stats.remaining, 0),
            reset_after_s=max(math.ceil(stats.reset_time - time.time()), 0),
            window_s=item.get_expiry(),
        )
