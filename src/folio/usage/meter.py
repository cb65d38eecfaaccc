"""API-call metering: a per-shop, per-UTC-day counter in the rate limiter's storage.

Counting every API call in the database would add a write to every request; the
counter lives in Redis (or memory in lite mode) instead, and ``ApiCallMeter.flush``
copies it into ``usage_daily`` every ``tenancy.usage_flush_interval_s`` (the gateway
runs it in its lifespan, and once more at shutdown).

The shop's daily limit (its override, else the plan's) is read on every request, so it
is cached (``folio.core.cache``, cache ``usage.limits``: L1, then Redis) for
``LIMITS_TTL_S``. ``set_quota_override`` notes a ``QuotaChanged`` with its commit, and
``forget_changed_limits`` (bootstrap registers it with ``Database.on_committed``) drops
the shop's limits in every process at once: an operator's change applies to the next
request. A change made in SQL by hand applies within ``LIMITS_TTL_S``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.cache import Cache, Caches
from folio.core.columns import utcnow
from folio.core.db import Database, reads_from_primary
from folio.core.errors import QuotaExceededError
from folio.core.platform import Slot
from folio.core.ratelimit import CappedCount, RateLimiter
from folio.core.settings import Settings
from folio.core.settings.cache import CacheSettings
from folio.core.tenancy import tenant_scope
from folio.usage.schemas import Meter
from folio.usage.service import QuotaChanged, quota_limit, store_usage_total

__all__ = ["API_CALL_METER", "COUNTER_TTL_S", "LIMITS_CACHE", "LIMITS_TTL_S", "ApiCallMeter"]

LIMITS_CACHE = "usage.limits"
"""The cache of shops' limits (its metrics' ``cache`` label)."""

LIMITS_TTL_S = 300.0
"""How long a shop's limit is kept without a change: the bound for changes made in SQL by hand."""

log = structlog.get_logger(__name__)

COUNTER_TTL_S = 2 * 24 * 3600
"""How long a day's counter outlives its first call: long enough to flush it after midnight."""


class ApiCallMeter:
    """Counts a shop's API calls per UTC day against its ``api_calls`` quota; flushes them to the database.

    One instance per process (bootstrap provides it as ``API_CALL_METER``): it
    remembers which shops it counted, so ``flush`` copies only their counters. The
    counters themselves are shared by every gateway process on the same Redis, and
    ``flush`` writes their absolute value, so several processes flushing the same shop
    agree. ``limits`` is the cache of shops' limits (bootstrap: the platform's
    ``usage.limits``; without it, one in the process). ``clock`` is a seam for tests
    (the UTC day rolls over).
    """

    def __init__(
        self,
        limiter: RateLimiter,
        settings: Settings,
        *,
        limits: Cache | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._limiter = limiter
        self._settings = settings
        self._clock = clock
        self._seen: set[tuple[uuid.UUID, dt.date]] = set()
        self._limits = limits or Caches(CacheSettings(backend="memory")).named(LIMITS_CACHE)

    @staticmethod
    def counter_key(tenant_id: uuid.UUID, day: dt.date) -> str:
        """The counter's key in the limiter's storage."""
        return f"usage:{Meter.API_CALLS.value}:{tenant_id.hex}:{day.isoformat()}"

    def todays_counter(self, tenant_id: uuid.UUID, *, limit: int | None = None) -> CappedCount:
        """One call on the shop's counter for today, capped at ``limit``.

        ``limit`` defaults to ``tenancy.quotas.api_calls_per_day``. For
        ``RateLimiter.admit``, which adds it in the same round trip as the rate limits;
        the meter remembers the shop so ``flush`` copies its counter.
        """
        day = self._clock().date()
        self._seen.add((tenant_id, day))
        cap = limit if limit is not None else self._settings.tenancy.quotas.api_calls_per_day
        return CappedCount(key=self.counter_key(tenant_id, day), cap=cap, expiry_s=COUNTER_TTL_S)

    @staticmethod
    def refusal(counter: CappedCount, *, in_use: int) -> QuotaExceededError:
        """The 403 for a call the day's quota refused, ``in_use`` calls made (the refused one not counted)."""
        return QuotaExceededError(
            f"the shop has made its {counter.cap} API calls for today; the quota resets at midnight UTC",
            meter=Meter.API_CALLS.value,
            limit=counter.cap,
            in_use=in_use,
        )

    async def count(self, tenant_id: uuid.UUID, *, limit: int | None = None) -> int:
        """Count one API call for the shop today and return today's total.

        Raises ``QuotaExceededError`` (meter ``api_calls``) when the call would pass
        ``limit`` (default: ``tenancy.quotas.api_calls_per_day``); a refused call is not
        counted, so the day's total is the calls served.
        """
        counter = self.todays_counter(tenant_id, limit=limit)
        admission = await self._limiter.admit([], count=counter)
        if admission.counted is None:  # unreachable: no rate can refuse an empty list
            raise RuntimeError("the limiter skipped the counter")
        if admission.over_cap:
            raise self.refusal(counter, in_use=admission.counted)
        return admission.counted

    async def current(self, tenant_id: uuid.UUID) -> int:
        """The shop's API calls so far today (UTC)."""
        return await self._limiter.counter_get(self.counter_key(tenant_id, self._clock().date()))

    async def limit_for(self, db: Database, tenant_id: uuid.UUID) -> int:
        """The shop's daily API-call limit (its override, else the default), cached (see the module doc)."""

        async def load() -> bytes:
            async def work(session: AsyncSession) -> int:
                return await quota_limit(
                    session, settings=self._settings, tenant_id=tenant_id, meter=Meter.API_CALLS
                )

            # From the primary: a replica behind the change would put the old limit back.
            with tenant_scope(tenant_id), reads_from_primary():
                return str(await db.run(work, readonly=True)).encode()

        body = await self._limits.get_or_load(
            f"{Meter.API_CALLS.value}:{tenant_id.hex}", load, ttl_s=LIMITS_TTL_S, tags=(_shop_tag(tenant_id),)
        )
        return int(body)

    async def forget_changed_limits(self, notes: Sequence[Any]) -> None:
        """Drop the cached limits of each shop a ``QuotaChanged`` in ``notes`` names (a commit listener)."""
        for tenant_id in sorted({note.tenant_id for note in notes if isinstance(note, QuotaChanged)}):
            await self._limits.invalidate_tag(_shop_tag(tenant_id))

    async def flush(self, db: Database) -> int:
        """Copy the counters of every shop counted since the last flush into ``usage_daily``.

        Writes each counter's absolute value (idempotent: flushing twice changes
        nothing), one shop per transaction. Days before today are flushed one last time
        and then forgotten. Returns how many (shop, day) rows it wrote.
        """
        today = self._clock().date()
        written = 0
        for tenant_id, day in sorted(self._seen):
            total = await self._limiter.counter_get(self.counter_key(tenant_id, day))
            if total > 0:
                await self._store(db, tenant_id, day, total)
                written += 1
            if day < today:
                self._seen.discard((tenant_id, day))
        log.debug("usage.flushed", rows=written)
        return written

    @staticmethod
    async def _store(db: Database, tenant_id: uuid.UUID, day: dt.date, total: int) -> None:
        async def work(session: AsyncSession) -> None:
            await store_usage_total(
                session, tenant_id=tenant_id, meter=Meter.API_CALLS, day=day, quantity=total
            )

        with tenant_scope(tenant_id):
            await db.run(work)


def _shop_tag(tenant_id: uuid.UUID) -> str:
    return f"usage:limits:{tenant_id.hex}"


API_CALL_METER: Slot[ApiCallMeter] = Slot("API-call meter")
"""Where bootstrap puts the process's one meter (the gateway flushes it in its lifespan)."""
