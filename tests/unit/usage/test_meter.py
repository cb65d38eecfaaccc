"""ApiCallMeter on an in-memory limiter: daily counting, the quota, the day's rollover."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from folio.core.errors import QuotaExceededError
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings
from folio.usage.api import ApiCallMeter, Meter
from folio.usage.service import default_limit

pytestmark = pytest.mark.unit


class FakeClock:
    """A UTC clock the test moves by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        """The time the test set."""
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    """Late on a UTC day, so a test can cross midnight."""
    return FakeClock(dt.datetime(2026, 11, 22, 23, 59, tzinfo=dt.UTC))


def test_default_limits_come_from_tenancy_quotas(settings: Settings) -> None:
    """Each meter's plan limit is its `tenancy.quotas` setting (API calls per day)."""
    quotas = settings.tenancy.quotas
    assert default_limit(settings, Meter.TASKS) == quotas.tasks
    assert default_limit(settings, Meter.MEMBERS) == quotas.members
    assert default_limit(settings, Meter.API_CALLS) == quotas.api_calls_per_day
    assert default_limit(settings, Meter.STORAGE_BYTES) == quotas.storage_bytes


async def test_counts_per_shop(memory_limiter: RateLimiter, settings: Settings, clock: FakeClock) -> None:
    """Each shop has its own count."""
    meter = ApiCallMeter(memory_limiter, settings, clock=clock)
    shop_a, shop_b = uuid.uuid4(), uuid.uuid4()
    assert [await meter.count(shop_a) for _ in range(3)] == [1, 2, 3]
    assert await meter.count(shop_b) == 1
    assert await meter.current(shop_a) == 3


async def test_refuses_past_the_limit_without_counting(
    memory_limiter: RateLimiter, settings: Settings, clock: FakeClock
) -> None:
    """The call past the limit raises quota-exceeded (meter api_calls) and is not counted."""
    meter = ApiCallMeter(memory_limiter, settings, clock=clock)
    shop = uuid.uuid4()
    for _ in range(2):
        await meter.count(shop, limit=2)
    for _ in range(2):
        with pytest.raises(QuotaExceededError) as caught:
            await meter.count(shop, limit=2)
    assert caught.value.extra == {"meter": "api_calls", "limit": 2, "in_use": 2}
    assert caught.value.status == 403
    assert await meter.current(shop) == 2


async def test_default_limit_is_the_setting(
    memory_limiter: RateLimiter, settings: Settings, clock: FakeClock
) -> None:
    """Without an explicit limit the meter enforces `tenancy.quotas.api_calls_per_day`."""
    tight = settings.model_copy(
        update={
            "tenancy": settings.tenancy.model_copy(
                update={"quotas": settings.tenancy.quotas.model_copy(update={"api_calls_per_day": 1})}
            )
        }
    )
    meter = ApiCallMeter(memory_limiter, tight, clock=clock)
    shop = uuid.uuid4()
    await meter.count(shop)
    with pytest.raises(QuotaExceededError):
        await meter.count(shop)


async def test_a_new_utc_day_starts_from_zero(
    memory_limiter: RateLimiter, settings: Settings, clock: FakeClock
) -> None:
    """At midnight UTC the count (and so the quota) starts again."""
    meter = ApiCallMeter(memory_limiter, settings, clock=clock)
    shop = uuid.uuid4()
    await meter.count(shop, limit=1)
    clock.now += dt.timedelta(minutes=2)
    assert await meter.count(shop, limit=1) == 1


def test_counter_key_names_meter_shop_and_day() -> None:
    """The storage key is readable: meter, shop and UTC day."""
    shop = uuid.UUID(int=1)
    key = ApiCallMeter.counter_key(shop, dt.date(2026, 11, 22))
    assert key == f"usage:api_calls:{shop.hex}:2026-11-22"
