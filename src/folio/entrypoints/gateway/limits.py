"""Per-credential and per-shop API rate limits, and API-call metering.

``enforce_api_limits`` is the dependency the gateway mounts on every API router but
identity's (whose auth endpoints throttle logins themselves). For each request it:

1. authenticates the caller (``folio.httpkit.CurrentPrincipal``: 401 without one; the
   route's own dependency reuses this one authentication);
2. counts the request against ``api.rate_limit_per_key`` for the credential (a token's
   user or an API key) and ``api.rate_limit_per_tenant`` for the shop across all its
   credentials (moving windows, so no burst at a window's edge);
3. answers 429 with ``Retry-After`` and the ``RateLimit-*`` headers when either is
   spent, and otherwise puts the ``RateLimit-*`` headers of the tighter one on the
   response;
4. counts the call on the shop's daily ``api_calls`` meter (``ApiCallMeter``; 403
   ``quota-exceeded`` past the shop's daily quota).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial

import structlog
from fastapi import Request, Response

from folio.core.api_limits import api_rate_windows
from folio.core.background import Periodic
from folio.core.db import Database
from folio.core.errors import RateLimitedError
from folio.core.ratelimit import RateLimitDecision
from folio.core.settings import Settings
from folio.httpkit import CurrentPrincipal, DatabaseDep, RateLimiterDep, SettingsDep, platform_of
from folio.usage.api import API_CALL_METER, ApiCallMeter

__all__ = ["api_call_meter", "enforce_api_limits", "usage_flusher"]

log = structlog.get_logger(__name__)


def api_call_meter(request: Request) -> ApiCallMeter:
    """The process's API-call meter (bootstrap provides it in the platform)."""
    return platform_of(request).get(API_CALL_METER)


def _refusal(decision: RateLimitDecision, *, whose: str, settings: Settings) -> RateLimitedError:
    rate = settings.api.rate_limit_per_key if whose == "credential" else settings.api.rate_limit_per_tenant
    return RateLimitedError(
        f"this {whose} made more than {rate} requests; retry in {max(decision.reset_after_s, 1)}s",
        retry_after_s=max(decision.reset_after_s, 1),
        headers=decision.headers(),
        limit=decision.limit,
        window_s=decision.window_s,
    )


async def enforce_api_limits(
    *,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    limiter: RateLimiterDep,
    settings: SettingsDep,
    db: DatabaseDep,
) -> None:
    """Authenticate, rate-limit and meter one API request (see the module docstring).

    Raises ``RateLimitedError`` (429) when the credential's or the shop's rate is spent,
    ``QuotaExceededError`` (403) past the shop's daily API calls. The credential's
    window is checked first: a credential over its own limit does not eat into its
    shop's.
    """
    meter = api_call_meter(request)
    quota = meter.todays_counter(principal.tenant_id, limit=await meter.limit_for(db, principal.tenant_id))
    # One round trip for all three: the credential's window, the shop's, the day's quota.
    admission = await limiter.admit(api_rate_windows(settings.api, principal), count=quota)
    refused = admission.refused_by
    if refused is not None:
        whose = "credential" if refused == 0 else "shop"
        raise _refusal(admission.decisions[refused], whose=whose, settings=settings)
    per_key, per_tenant = admission.decisions
    tighter = per_key if per_key.remaining <= per_tenant.remaining else per_tenant
    response.headers.update(tighter.headers())
    if admission.over_cap:
        raise meter.refusal(quota, in_use=admission.counted or 0)


@dataclass
class _FlushHealth:
    """Whether the last flush failed, so an outage is logged when it starts and ends, not every interval."""

    failing: bool = False


async def _flush(meter: ApiCallMeter, database: Database, health: _FlushHealth) -> None:
    # Metering must never take the gateway down: a failed flush is logged and the
    # counters stay in Redis for the next one (the flush writes absolute values).
    try:
        await meter.flush(database)
    except Exception as exc:  # noqa: BLE001 - any failure: the next interval retries it
        error = f"{type(exc).__name__}: {exc}"[:300]
        if health.failing:
            log.debug("usage.flush_still_failing", error=error)
        else:
            log.warning("usage.flush_failing", error=error)
        health.failing = True
        return
    if health.failing:
        log.warning("usage.flush_recovered")
    health.failing = False


@contextlib.asynccontextmanager
async def usage_flusher(meter: ApiCallMeter, database: Database, *, interval_s: float) -> AsyncIterator[None]:
    """Flush ``meter`` into ``database`` every ``interval_s`` while the block runs, and once at its end.

    The gateway's lifespan wraps its ``yield`` in it, so the API calls counted since
    the last interval reach ``usage_daily`` at shutdown too. A failing flush (the
    database is down) logs one warning when the failures start and one when a flush
    works again, not a traceback per interval. The loop is stopped, not cancelled
    (``folio.core.background``): a flush in flight finishes first.
    """
    health = _FlushHealth()
    flusher = Periodic(partial(_flush, meter, database, health), interval_s=interval_s, name="usage-flush")
    flusher.start()
    try:
        yield
    finally:
        await flusher.stop()
        await _flush(meter, database, health)
