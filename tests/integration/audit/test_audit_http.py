"""GET /api/v1/audit-events through the gateway: managers read their shop's trail, page by cursor."""

from __future__ import annotations

import base64
import uuid

import httpx
import pytest

from folio.core.security import Role
from tests.support.identity import add_member_and_login, api_key_headers, register_and_login

pytestmark = pytest.mark.integration


@pytest.fixture
def client(api_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The gateway's in-process client."""
    return api_client


async def test_owner_reads_the_registration_event(client: httpx.AsyncClient) -> None:
    """Registering a shop is the first event of its trail, with the request's correlation id."""
    owner = await register_and_login(client)
    response = await client.get(
        "/api/v1/audit-events", params={"action": "tenant.registered"}, headers=owner.headers
    )
    assert response.status_code == 200, response.text
    [event] = response.json()["items"]
    assert event["action"] == "tenant.registered"
    assert event["correlation_id"]


async def test_pages_follow_next_cursor(client: httpx.AsyncClient) -> None:
    """limit=1 pages through the trail one event at a time without repeats."""
    owner = await register_and_login(client)
    await add_member_and_login(client, owner, Role.STAFF)
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 1}
    for _ in range(20):
        body = (await client.get("/api/v1/audit-events", params=params, headers=owner.headers)).json()
        seen.extend(item["id"] for item in body["items"])
        if body["next_cursor"] is None:
            break
        params = {"limit": 1, "cursor": body["next_cursor"]}
    everything = (await client.get("/api/v1/audit-events", headers=owner.headers)).json()["items"]
    assert seen == [item["id"] for item in everything]
    assert len(seen) >= 2


async def test_staff_is_refused(client: httpx.AsyncClient) -> None:
    """A staff member gets 403 permission-denied."""
    owner = await register_and_login(client)
    staff = await add_member_and_login(client, owner, Role.STAFF)
    response = await client.get("/api/v1/audit-events", headers=staff.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "permission-denied"


async def test_admin_api_key_reads_the_trail(client: httpx.AsyncClient) -> None:
    """An admin API key may read the trail."""
    owner = await register_and_login(client)
    key = await api_key_headers(client, owner, Role.ADMIN)
    response = await client.get("/api/v1/audit-events", headers=key)
    assert response.status_code == 200


async def test_bad_cursor_is_400_and_bad_limit_is_422(client: httpx.AsyncClient) -> None:
    """A malformed cursor is the `invalid-cursor` problem (as on /api/v2/tasks); a bad limit is 422."""
    owner = await register_and_login(client)
    bad_cursor = await client.get("/api/v1/audit-events", params={"cursor": "nope"}, headers=owner.headers)
    bad_limit = await client.get("/api/v1/audit-events", params={"limit": 0}, headers=owner.headers)
    assert (bad_cursor.status_code, bad_limit.status_code) == (400, 422)
    assert bad_cursor.json()["code"] == "invalid-cursor"


async def test_an_unsigned_cursor_of_old_is_the_same_400(client: httpx.AsyncClient) -> None:
    """A cursor of the unsigned kind the trail issued before cursors were signed is `invalid-cursor` too."""
    owner = await register_and_login(client)
    old = base64.urlsafe_b64encode(f"2026-11-22T09:30:00+00:00|{uuid.uuid4().hex}".encode()).decode()
    response = await client.get("/api/v1/audit-events", params={"cursor": old}, headers=owner.headers)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid-cursor"


async def test_without_credentials_is_401(client: httpx.AsyncClient) -> None:
    """No token, no trail."""
    response = await client.get("/api/v1/audit-events")
    assert response.status_code == 401
