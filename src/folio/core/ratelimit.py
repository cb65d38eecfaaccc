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
- ``admit`` does in one Redis round trip what a request of the API needs: several
  rates (each checked as ``hit`` would) and one capped counter (the daily API-call
  quota), stopping at the first refusal. It runs one Lua script on the very keys
  `limits` uses, so ``hit``, ``clear`` and ``admit`` agree about every window; five
  round trips per request became one (the hot path's profile: docs/performance.md).
- Nothing connects until the first call; ``aclose`` releases the connection pool.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

__all__ = ["Admission", "CappedCount", "RateLimitDecision", "RateLimiter", "async_storage_uri"]


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


@dataclass(frozen=True)
class CappedCount:
    """An expiring counter to add ``amount`` to, unless that would take it past ``cap``.

    A refused addition is not kept, so the counter holds what was admitted.
    """

    key: str
    cap: int
    expiry_s: int
    amount: int = 1


@dataclass(frozen=True)
class Admission:
    """What ``admit`` decided: one decision per rate checked, and the counter's fate.

    Rates are checked in order and checking stops at the first refused one, so
    ``decisions`` may be shorter than the rates asked. The counter is only reached
    when every rate allowed the request: ``counted`` is its new value then (or, when
    the cap refused it, the value it stayed at) and None otherwise.
    """

    decisions: tuple[RateLimitDecision, ...]
    counted: int | None = None
    over_cap: bool = False

    @property
    def refused_by(self) -> int | None:
        """The index of the rate that refused the request, or None."""
        return next((i for i, decision in enumerate(self.decisions) if not decision.allowed), None)


# KEYS: one moving-window list per limit, then (optionally) the counter.
# ARGV: now, number of windows, then limit and expiry per window, then the counter's
# amount, cap and expiry. For each window this is `limits`' acquire_moving_window.lua
# followed by its moving_window.lua (the oldest entry still inside the window, found
# by binary search over the newest-first list), so the lists stay `limits`' own.
_ADMIT_LUA = """
local now = tonumber(ARGV[1])
local windows = tonumber(ARGV[2])
local out = {}
for i = 1, windows do
    local key = KEYS[i]
    local limit = tonumber(ARGV[1 + 2 * i])
    local expiry = tonumber(ARGV[2 + 2 * i])
    local allowed = 1
    local entry = redis.call('lindex', key, limit - 1)
    if entry and tonumber(entry) >= now - expiry then
        allowed = 0
    else
        redis.call('lpush', key, ARGV[1])
        redis.call('ltrim', key, 0, limit - 1)
        redis.call('expire', key, expiry)
    end
    local low, high, found = 0, redis.call('llen', key) - 1, -1
    while low <= high do
        local mid = math.floor((low + high) / 2)
        local value = tonumber(redis.call('lindex', key, mid))
        if value and value >= now - expiry then
            found = mid
            low = mid + 1
        else
            high = mid - 1
        end
    end
    local oldest = ARGV[1]
    if found >= 0 then
        oldest = redis.call('lindex', key, found)
    end
    out[#out + 1] = {allowed, found + 1, oldest}
    if allowed == 0 then
        return {out, false}
    end
end
if #KEYS > windows then
    local base = 3 + 2 * windows
    local amount = tonumber(ARGV[base])
    local cap = tonumber(ARGV[base + 1])
    local counter = KEYS[windows + 1]
    local total = redis.call('incrby', counter, amount)
    if total == amount then
        redis.call('expire', counter, ARGV[base + 2])
    end
    if total > cap then
        redis.call('decrby', counter, amount)
        return {out, {0, total - amount}}
    end
    return {out, {1, total}}
end
return {out, false}
"""


def _admission(windows: Sequence[tuple[int, RateLimitItem]], answered: list[Any], now: float) -> Admission:
    """Fold the script's per-window answers into one decision per rate: its tightest window."""
    per_window, counter = answered
    decisions: list[RateLimitDecision] = []
    for (rate_number, item), (allowed, in_window, oldest) in zip(windows, per_window, strict=False):
        decision = RateLimitDecision(
            allowed=bool(allowed),
            limit=item.amount,
            remaining=max(item.amount - int(in_window), 0),
            reset_after_s=max(math.ceil(float(oldest) + item.get_expiry() - now), 0),
            window_s=item.get_expiry(),
        )
        if len(decisions) == rate_number:
            decisions.append(decision)
        elif not decision.allowed or decision.remaining < decisions[-1].remaining:
            decisions[-1] = decision
    if not counter:
        return Admission(decisions=tuple(decisions))
    admitted, total = counter
    return Admission(decisions=tuple(decisions), counted=int(total), over_cap=not admitted)


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
        self._admit_script: Any = None

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

    async def admit(
        self, rates: Sequence[tuple[str, Sequence[str]]], *, count: CappedCount | None = None
    ) -> Admission:
        """Check each ``(rate, key)`` as ``hit`` would, then add to ``count``: one round trip on Redis.

        Stops at the first refused rate (no unit taken from the rates after it, and
        the counter untouched). See ``Admission`` for what comes back.
        """
        client = self._redis_client()
        if client is None:
            return await self._admit_one_by_one(rates, count)
        windows = [(number, item) for number, (rate, _) in enumerate(rates) for item in parse_many(rate)]
        bridge = self._storage.bridge  # type: ignore[attr-defined]
        keys = [bridge.prefixed_key(item.key_for(self._namespace, *rates[n][1])) for n, item in windows]
        now = time.time()
        argv: list[Any] = [repr(now), len(windows)]
        for _, item in windows:
            argv += [item.amount, item.get_expiry()]
        if count is not None:
            keys.append(bridge.prefixed_key(f"{self._namespace}:{count.key}"))
            argv += [count.amount, count.cap, count.expiry_s]
        if self._admit_script is None:
            self._admit_script = client.register_script(_ADMIT_LUA)
        answered = cast("list[Any]", await self._admit_script(keys=keys, args=argv))
        return _admission(windows, answered, now)

    async def _admit_one_by_one(
        self, rates: Sequence[tuple[str, Sequence[str]]], count: CappedCount | None
    ) -> Admission:
        """``admit`` on a storage without scripts (memory: one process, no round trips to save)."""
        decisions: list[RateLimitDecision] = []
        for rate, rate_key in rates:
            decision = await self.hit(rate, *rate_key)
            decisions.append(decision)
            if not decision.allowed:
                return Admission(decisions=tuple(decisions))
        if count is None:
            return Admission(decisions=tuple(decisions))
        total = await self.counter_add(count.key, count.amount, expiry_s=count.expiry_s)
        if total > count.cap:
            total = await self.counter_add(count.key, -count.amount, expiry_s=count.expiry_s)
            return Admission(decisions=tuple(decisions), counted=total, over_cap=True)
        return Admission(decisions=tuple(decisions), counted=total)

    def _redis_client(self) -> Any:
        """The redis-py client under `limits`' Redis storage, or None on the memory storage."""
        bridge = getattr(self._storage, "bridge", None)
        return bridge.storage if bridge is not None else None

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
