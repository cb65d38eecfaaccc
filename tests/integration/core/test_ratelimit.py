"""``RateLimiter.admit``: several rates and a capped counter in one call, agreeing with ``hit``.

Each test runs on Redis (one Lua script, one round trip) and on the memory storage
(``hit`` and ``counter_add`` one by one): both must decide the same.
"""

from __future__ import annotations

import pytest

from folio.core.ratelimit import CappedCount, RateLimiter

pytestmark = pytest.mark.integration


@pytest.fixture(params=["redis", "memory"])
def limiter(request: pytest.FixtureRequest) -> RateLimiter:
    """The limiter on Redis, then in memory."""
    chosen: RateLimiter = request.getfixturevalue(f"{request.param}_limiter")
    return chosen


async def test_admit_counts_in_the_same_windows_as_hit(limiter: RateLimiter) -> None:
    """Three admits and one hit on the same key leave one of five; ``hit`` and ``admit`` share windows."""
    for _ in range(3):
        admission = await limiter.admit([("5/minute", ("api", "alice"))])
        assert admission.refused_by is None
    assert admission.decisions[0].remaining == 2
    assert (await limiter.hit("5/minute", "api", "alice")).remaining == 1
    again = await limiter.admit([("5/minute", ("api", "alice"))])
    assert again.decisions[0].remaining == 0
    assert again.decisions[0].allowed


async def test_a_refused_rate_stops_the_rest_and_the_counter(limiter: RateLimiter) -> None:
    """Once the first rate is spent, the second keeps its units and the counter is not touched."""
    quota = CappedCount(key="calls:shop", cap=100, expiry_s=60)
    rates = [("2/minute", ("api", "bob")), ("10/minute", ("api-tenant", "shop"))]
    for _ in range(2):
        assert (await limiter.admit(rates, count=quota)).refused_by is None
    refused = await limiter.admit(rates, count=quota)
    assert refused.refused_by == 0
    assert len(refused.decisions) == 1
    assert refused.counted is None
    assert 0 < refused.decisions[0].reset_after_s <= 60
    assert refused.decisions[0].headers()["Retry-After"] == str(refused.decisions[0].reset_after_s)
    assert await limiter.counter_get("calls:shop") == 2
    shop = await limiter.admit([("10/minute", ("api-tenant", "shop"))])
    assert shop.decisions[0].remaining == 7  # two admitted before, this one: the refusal took none


async def test_the_counter_refuses_past_its_cap_and_keeps_what_was_admitted(limiter: RateLimiter) -> None:
    """A capped counter at its cap refuses, and stays at the cap rather than creeping past it."""
    quota = CappedCount(key="calls:capped", cap=2, expiry_s=60)
    counted = [await limiter.admit([("100/minute", ("api", "carol"))], count=quota) for _ in range(3)]
    assert [(a.counted, a.over_cap) for a in counted] == [(1, False), (2, False), (2, True)]
    assert await limiter.counter_get("calls:capped") == 2


async def test_a_rate_of_several_limits_reports_its_tightest(limiter: RateLimiter) -> None:
    """With ``3/second;100/minute`` the per-second window is the tighter and is reported."""
    admission = await limiter.admit([("3/second;100/minute", ("api", "dave"))])
    decision = admission.decisions[0]
    assert (decision.limit, decision.remaining, decision.window_s) == (3, 2, 1)
