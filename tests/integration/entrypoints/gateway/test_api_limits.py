"""API rate limits and metering through the gateway (journey: a shop's integration hammers the API).

Every limited route counts against the credential's rate (`api.rate_limit_per_key`)
and the shop's (`api.rate_limit_per_tenant`); a refusal is 429 with `Retry-After`
and the `RateLimit-*` headers, which successful responses carry too. Each served
call counts on the shop's daily `api_calls` meter, which the lifespan flushes into
`usage_daily`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import httpx
import pytest

from folio.core.db import Database
from folio.core.security import Role
from folio.usage.api import API_CALL_METER, ApiCallMeter, Meter, get_tenant_usage, set_quota_override
from tests.integration.entrypoints.gateway.conftest import LimitedApp
from tests.support.identity import add_member_and_login, api_key_headers, register_and_login

pytestmark = pytest.mark.integration

ROUTE = "/api/v1/audit-events"
RATE_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy")


async def _api_calls(db: Database, tenant_id: uuid.UUID, *, expected: int) -> list[tuple[dt.date, int]]:
    """The shop's recorded API calls per day, once they reach ``expected`` (or after ~10s).

    Reads go to the streaming replica, which may lag the flush's commit a little.
    """
    rows: list[tuple[dt.date, int]] = []
    for _ in range(200):
        usage = await get_tenant_usage(db, tenant_id=tenant_id, meter=Meter.API_CALLS)
        rows = [(u.day, u.quantity) for u in usage]
        if rows and rows[0][1] >= expected:
            break
        await asyncio.sleep(0.05)
    return rows


def _assert_refused(response: httpx.Response, *, limit: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "rate-limited"
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["RateLimit-Limit"] == str(limit)
    assert response.headers["RateLimit-Remaining"] == "0"
    assert response.headers["RateLimit-Policy"] == f"{limit};w=60"


async def test_successful_responses_carry_rate_limit_headers(limited_app: LimitedApp) -> None:
    """A served request says its limit, what remains, when the window frees and the policy."""
    async with limited_app(api={"rate_limit_per_key": "5/minute"}) as (_, client):
        owner = await register_and_login(client)
        first = await client.get(ROUTE, headers=owner.headers)
        second = await client.get("/api/v1/usage", headers=owner.headers)
    assert first.status_code == 200, first.text
    for header in RATE_HEADERS:
        assert header in first.headers
    assert (first.headers["RateLimit-Limit"], first.headers["RateLimit-Remaining"]) == ("5", "4")
    assert first.headers["RateLimit-Policy"] == "5;w=60"
    assert 0 <= int(first.headers["RateLimit-Reset"]) <= 60
    assert second.headers["RateLimit-Remaining"] == "3"


async def test_request_past_the_key_limit_is_429(limited_app: LimitedApp) -> None:
    """With 5/minute per credential, the sixth request in the minute is refused with Retry-After."""
    async with limited_app(api={"rate_limit_per_key": "5/minute"}) as (_, client):
        owner = await register_and_login(client)
        served = [await client.get(ROUTE, headers=owner.headers) for _ in range(5)]
        refused = await client.get(ROUTE, headers=owner.headers)
    assert [r.status_code for r in served] == [200] * 5
    _assert_refused(refused, limit=5)


async def test_the_101st_request_at_the_default_limit_is_429(limited_app: LimitedApp) -> None:
    """At the default 100/minute per credential, requests 1-100 are served and the 101st is refused."""
    async with limited_app() as (app, client):
        owner = await register_and_login(client)
        statuses = [
            (await client.get("/api/v1/usage", headers=owner.headers)).status_code for _ in range(100)
        ]
        refused = await client.get("/api/v1/usage", headers=owner.headers)
        meter: ApiCallMeter = app.state.platform.get(API_CALL_METER)
        counted = await meter.current(owner.tenant_id)
    assert statuses == [200] * 100
    _assert_refused(refused, limit=100)
    assert counted == 100


async def _until_refused(
    client: httpx.AsyncClient, *credentials: dict[str, str]
) -> tuple[int, httpx.Response]:
    """Send requests, taking turns with ``credentials``, until one is refused; (served, the refusal)."""
    for served in range(200):
        response = await client.get(ROUTE, headers=credentials[served % len(credentials)])
        if response.status_code != 200:
            return served, response
    raise AssertionError("never refused")


async def test_shop_limit_counts_across_credentials(limited_app: LimitedApp) -> None:
    """Two credentials of one shop share its limit; another shop is unaffected."""
    async with limited_app(api={"rate_limit_per_tenant": "5/minute"}) as (_, client):
        owner = await register_and_login(client)
        other = await register_and_login(client)
        key = await api_key_headers(client, owner, Role.ADMIN)  # counts once against the shop
        served, refused = await _until_refused(client, owner.headers, key)
        refused_token = await client.get(ROUTE, headers=owner.headers)
        other_shop = await client.get(ROUTE, headers=other.headers)
    # Neither credential is near its own 100/minute: the shop's 5 ran out between them.
    assert served == 4
    _assert_refused(refused, limit=5)
    _assert_refused(refused_token, limit=5)
    assert other_shop.status_code == 200
    assert other_shop.headers["RateLimit-Remaining"] == "4"


async def test_key_limit_is_per_credential(limited_app: LimitedApp) -> None:
    """One member spending their own limit leaves another member of the shop served."""
    async with limited_app(api={"rate_limit_per_key": "3/minute"}) as (_, client):
        owner = await register_and_login(client)
        admin = await add_member_and_login(client, owner, Role.ADMIN)
        _, refused = await _until_refused(client, owner.headers)
        served = await client.get(ROUTE, headers=admin.headers)
    _assert_refused(refused, limit=3)
    assert served.status_code == 200
    assert served.headers["RateLimit-Remaining"] == "2"


async def test_unauthenticated_request_is_401_and_not_counted(limited_app: LimitedApp) -> None:
    """A limited route without credentials answers 401 with WWW-Authenticate."""
    async with limited_app() as (_, client):
        response = await client.get("/api/v1/usage")
    assert response.status_code == 401
    assert "Bearer" in response.headers.get("WWW-Authenticate", "")


async def test_daily_api_call_quota_is_403(limited_app: LimitedApp, pg_database: Database) -> None:
    """Past the shop's api_calls quota for the day, requests are refused with quota-exceeded."""
    async with limited_app() as (_, client):
        owner = await register_and_login(client)
        await set_quota_override(pg_database, tenant_id=owner.tenant_id, meter=Meter.API_CALLS, limit=2)
        statuses = [(await client.get(ROUTE, headers=owner.headers)).status_code for _ in range(2)]
        refused = await client.get(ROUTE, headers=owner.headers)
    assert statuses == [200, 200]
    assert refused.status_code == 403
    body = refused.json()
    assert (body["code"], body["meter"], body["limit"], body["in_use"]) == (
        "quota-exceeded",
        "api_calls",
        2,
        2,
    )


async def test_an_operators_new_quota_applies_to_the_next_request(
    limited_app: LimitedApp, pg_database: Database
) -> None:
    """The shop's limit is cached, yet an override committed meanwhile refuses the very next call."""
    async with limited_app() as (_, client):
        owner = await register_and_login(client)
        assert (await client.get(ROUTE, headers=owner.headers)).status_code == 200  # the default, cached
        await set_quota_override(pg_database, tenant_id=owner.tenant_id, meter=Meter.API_CALLS, limit=1)
        refused = await client.get(ROUTE, headers=owner.headers)
    assert (refused.status_code, refused.json()["limit"]) == (403, 1)


async def test_shutdown_flushes_api_calls_into_usage(limited_app: LimitedApp, pg_database: Database) -> None:
    """The lifespan's last flush writes the day's API calls; /usage reports them."""
    async with limited_app() as (_, client):
        owner = await register_and_login(client)
        for _ in range(3):
            await client.get(ROUTE, headers=owner.headers)
    today = dt.datetime.now(dt.UTC).date()
    assert await _api_calls(pg_database, owner.tenant_id, expected=3) == [(today, 3)]


async def test_periodic_flush_runs_while_serving(limited_app: LimitedApp, pg_database: Database) -> None:
    """With a short flush interval the counters reach usage_daily without a shutdown."""
    async with limited_app(tenancy={"usage_flush_interval_s": 0.05}) as (_, client):
        owner = await register_and_login(client)
        for _ in range(2):
            await client.get(ROUTE, headers=owner.headers)
        # Still inside the lifespan: only the periodic flush can have written it.
        rows = await _api_calls(pg_database, owner.tenant_id, expected=2)
    assert [quantity for _, quantity in rows] == [2]
