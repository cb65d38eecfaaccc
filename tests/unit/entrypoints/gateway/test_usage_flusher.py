"""The gateway's usage flusher: periodic, survives a failing flush, flushes once more at the end."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest
from fastapi import Request
from structlog.testing import capture_logs

from folio.bootstrap import build_platform
from folio.core.db import Database
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings
from folio.entrypoints.gateway.limits import api_call_meter, usage_flusher
from folio.usage.api import API_CALL_METER, ApiCallMeter

pytestmark = pytest.mark.unit

NO_DATABASE = cast("Database", object())


class CountingMeter(ApiCallMeter):
    """A meter whose flush counts its calls and fails the first ``failures`` of them."""

    def __init__(self, settings: Settings, *, failures: int = 0) -> None:
        super().__init__(RateLimiter("memory://"), settings)
        self.calls = 0
        self.failures = failures
        self.databases: list[Database] = []
        self.third_call = asyncio.Event()

    async def flush(self, db: Database) -> int:
        """Count the call; raise while failures remain."""
        self.calls += 1
        self.databases.append(db)
        if self.calls == 3:
            self.third_call.set()
        if self.calls <= self.failures:
            raise ConnectionError("database down")
        return 0


async def test_flushes_periodically_and_at_the_end(settings: Settings) -> None:
    """While the block runs the meter is flushed every interval, and once more when it ends."""
    meter = CountingMeter(settings)
    async with usage_flusher(meter, NO_DATABASE, interval_s=0.01):
        await asyncio.wait_for(meter.third_call.wait(), timeout=5)
    assert meter.calls >= 4
    assert set(map(id, meter.databases)) == {id(NO_DATABASE)}


async def test_a_failing_flush_is_logged_and_retried(settings: Settings) -> None:
    """A flush that raises does not stop the loop (nor the shutdown)."""
    meter = CountingMeter(settings, failures=2)
    async with usage_flusher(meter, NO_DATABASE, interval_s=0.01):
        await asyncio.wait_for(meter.third_call.wait(), timeout=5)
    assert meter.calls >= 4
    assert set(map(id, meter.databases)) == {id(NO_DATABASE)}


async def test_an_outage_is_one_warning_when_it_starts_and_one_when_it_ends(settings: Settings) -> None:
    """Failing flushes log one one-line warning (no traceback), then one when a flush works again."""
    meter = CountingMeter(settings, failures=5)
    with capture_logs() as logs:
        async with usage_flusher(meter, NO_DATABASE, interval_s=0.001):
            for _ in range(5000):
                if meter.calls > meter.failures:
                    break
                await asyncio.sleep(0.001)

    warnings = [entry for entry in logs if entry["log_level"] in {"warning", "error", "critical"}]
    assert [entry["event"] for entry in warnings] == ["usage.flush_failing", "usage.flush_recovered"]
    assert warnings[0]["error"] == "ConnectionError: database down"
    assert not any("exc_info" in entry for entry in logs)


async def test_shutdown_flush_failure_does_not_raise(settings: Settings) -> None:
    """Even the final flush failing leaves shutdown clean."""
    meter = CountingMeter(settings, failures=100)
    async with usage_flusher(meter, NO_DATABASE, interval_s=60):
        pass
    assert meter.calls == 1


def test_every_request_counts_on_the_platforms_one_meter(settings: Settings) -> None:
    """The meter is the one bootstrap provided: no request builds its own."""
    platform = build_platform(settings, rate_limiter=RateLimiter("memory://"))
    app: Any = SimpleNamespace(state=SimpleNamespace(platform=platform))
    request = cast("Request", SimpleNamespace(app=app))
    first = api_call_meter(request)
    assert first is platform.get(API_CALL_METER)
    assert api_call_meter(request) is first
