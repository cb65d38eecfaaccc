"""The auth endpoints over HTTP, on the real PostgreSQL and Redis: sign-up, tokens, refresh, logout."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi import FastAPI

from folio.core.db import Database
from folio.core.errors import RateLimitedError
from folio.core.logging import configure_logging, shutdown_logging
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.entrypoints.gateway.limits import enforce_api_limits
from folio.identity.tokens import issue_access_token
from tests.integration.identity.conftest import last_link_token
from tests.support.identity import (
    PASSWORD,
    add_member_and_login,
    api_key_headers,
    bearer,
    create_api_key,
    fast_argon2,
    login,
    register_and_login,
    register_shop,
    unique_email,
    unique_slug,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def migrated_postgres(migrated_postgres: Settings) -> Settings:
    """The suite's PostgreSQL settings with cheap argon2: these tests sign up many users."""
    return fast_argon2(migrated_postgres)


PROBLEM = "application/problem+json"


def _settings(app: FastAPI) -> Settings:
    settings: Settings = app.state.settings
    return settings


def assert_unauthorized(response: httpx.Response, code: str = "invalid-credentials") -> None:
    """A 401 problem with the documented shape and the Bearer challenge."""
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["status"] == 401
    assert body["code"] == code
    assert body["type"] == f"https://folio.dev/problems/{code}"
    assert body["correlation_id"] == response.headers["x-request-id"]


async def test_register_login_and_me(api_client: httpx.AsyncClient) -> None:
    """A shop registers (201), its owner logs in for a token pair, and /me names shop, user and role."""
    slug, email = unique_slug(), unique_email("owner")
    registration = await register_shop(api_client, slug=slug, email=email, display_name="Ada")
    assert registration["tenant"] == registration["tenant"] | {"slug": slug, "plan": "standard"}
    tokens = await login(api_client, shop_slug=slug, email=email.upper())
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 900

    response = await api_client.get("/api/v1/me", headers=bearer(str(tokens["access_token"])))
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["tenant"]["id"] == registration["tenant"]["id"]
    assert me["user"] == {"id": registration["user"]["id"], "email": email, "display_name": "Ada"}
    assert (me["role"], me["via"], me["api_key_id"]) == ("owner", "token", None)


async def test_token_responses_are_not_cacheable(api_client: httpx.AsyncClient) -> None:
    """Token responses carry ``Cache-Control: no-store`` (RFC 6749)."""
    owner = await register_and_login(api_client)
    response = await api_client.post(
        "/api/v1/auth/token", json={"shop_slug": owner.shop_slug, "email": owner.email, "password": PASSWORD}
    )
    assert response.headers["cache-control"] == "no-store"
    response = await api_client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert response.headers["cache-control"] == "no-store"


async def test_register_duplicate_slug_is_a_conflict(api_client: httpx.AsyncClient) -> None:
    """A taken slug is a 409 problem naming the field."""
    slug = unique_slug()
    await register_shop(api_client, slug=slug)
    response = await api_client.post(
        "/api/v1/auth/register",
        json={
            "shop_name": "Again",
            "shop_slug": slug,
            "email": unique_email(),
            "display_name": "Bo",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["name"] == "body.shop_slug"


async def test_wrong_password_is_invalid_credentials(api_client: httpx.AsyncClient) -> None:
    """A wrong password, an unknown address and an unknown shop are the same 401."""
    owner = await register_and_login(api_client)
    attempts = [
        {"shop_slug": owner.shop_slug, "email": owner.email, "password": "not-the-password-1"},
        {"shop_slug": owner.shop_slug, "email": unique_email(), "password": PASSWORD},
        {"shop_slug": unique_slug(), "email": owner.email, "password": PASSWORD},
    ]
    bodies = []
    for attempt in attempts:
        response = await api_client.post("/api/v1/auth/token", json=attempt)
        assert_unauthorized(response)
        bodies.append({k: v for k, v in response.json().items() if k != "correlation_id"})
    assert bodies[0] == bodies[1] == bodies[2]


async def test_missing_credentials_is_a_401_problem_with_a_challenge(api_client: httpx.AsyncClient) -> None:
    """No credential at all: 401 ``authentication-required`` with ``WWW-Authenticate: Bearer``."""
    for path in ("/api/v1/me", "/api/v1/members", "/api/v1/api-keys"):
        assert_unauthorized(await api_client.get(path), "authentication-required")
    assert_unauthorized(
        await api_client.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwYXNz"}),
        "authentication-required",
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer "},
        {"X-API-Key": "folio_nope"},
        {"X-API-Key": f"folio_{uuid.uuid4().hex}_{uuid.uuid4().hex}_secret"},
    ],
    ids=["garbage-token", "empty-token", "garbage-key", "unknown-key"],
)
async def test_invalid_credentials_are_a_401_problem(
    api_client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    """Malformed or unknown tokens and keys: 401 with the Bearer challenge."""
    response = await api_client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_expired_access_token_is_refused(api_client: httpx.AsyncClient, api_app: FastAPI) -> None:
    """An access token signed with the real key but past its expiry gets a 401."""
    owner = await register_and_login(api_client)
    settings = _settings(api_app)
    principal = Principal(tenant_id=owner.tenant_id, role=Role.OWNER, user_id=owner.user_id, via="token")
    stale = issue_access_token(
        settings,
        principal,
        now=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=settings.identity.access_ttl_s + 1),
    )
    assert_unauthorized(await api_client.get("/api/v1/me", headers=bearer(stale)))
    fresh = issue_access_token(settings, principal)
    assert (await api_client.get("/api/v1/me", headers=bearer(fresh))).status_code == 200


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_tampered_and_unsigned_tokens_are_refused(api_client: httpx.AsyncClient) -> None:
    """A customer's token edited to say owner, or re-sent unsigned (``alg: none``), gets a 401."""
    customer = await register_and_login(api_client, role=Role.CUSTOMER)
    header, payload, signature = customer.token.split(".")
    claims = jwt.decode(customer.token, options={"verify_signature": False})
    promoted = _b64(json.dumps(claims | {"role": "owner"}).encode())
    assert_unauthorized(
        await api_client.get("/api/v1/me", headers=bearer(f"{header}.{promoted}.{signature}"))
    )
    unsigned_header = _b64(
        json.dumps(
            {"alg": "none", "typ": "JWT", "kid": jwt.get_unverified_header(customer.token)["kid"]}
        ).encode()
    )
    assert_unauthorized(await api_client.get("/api/v1/me", headers=bearer(f"{unsigned_header}.{promoted}.")))
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    assert_unauthorized(await api_client.get("/api/v1/me", headers=bearer(f"{header}.{flipped}.{signature}")))
    assert (await api_client.get("/api/v1/me", headers=customer.headers)).json()["role"] == "customer"


async def test_refresh_token_is_not_a_bearer_token(api_client: httpx.AsyncClient) -> None:
    """A refresh token sent as ``Authorization: Bearer`` is refused; an access token does not refresh."""
    owner = await register_and_login(api_client)
    assert_unauthorized(await api_client.get("/api/v1/me", headers=bearer(owner.refresh_token)))
    response = await api_client.post("/api/v1/auth/refresh", json={"refresh_token": owner.token})
    assert_unauthorized(response)


async def test_refresh_rotation_and_reuse_detection(api_client: httpx.AsyncClient) -> None:
    """Refresh returns a working pair; replaying the old refresh token kills the successor too."""
    owner = await register_and_login(api_client)
    response = await api_client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert response.status_code == 200, response.text
    second = response.json()
    assert (await api_client.get("/api/v1/me", headers=bearer(second["access_token"]))).status_code == 200

    replay = await api_client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert_unauthorized(replay)
    successor = await api_client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert_unauthorized(successor)

    events = await api_client.get(
        "/api/v1/audit-events", params={"action": "auth.refresh_reuse_detected"}, headers=owner.headers
    )
    if events.status_code == 200:  # the audit API is mounted by the gateway
        assert len(events.json()["items"]) == 2


async def test_logout_revokes_the_refresh_token(api_client: httpx.AsyncClient) -> None:
    """After logout (204) the refresh token no longer refreshes; logging out again is fine."""
    owner = await register_and_login(api_client)
    body = {"refresh_token": owner.refresh_token}
    assert (await api_client.post("/api/v1/auth/logout", json=body)).status_code == 204
    assert (await api_client.post("/api/v1/auth/logout", json=body)).status_code == 204
    assert_unauthorized(await api_client.post("/api/v1/auth/refresh", json=body))
    assert_unauthorized(await api_client.post("/api/v1/auth/logout", json={"refresh_token": "garbage"}))


async def test_removed_member_cannot_refresh(api_client: httpx.AsyncClient) -> None:
    """Once the owner removes a member, the member's refresh token gets a 401."""
    owner = await register_and_login(api_client)
    staff = await add_member_and_login(api_client, owner, Role.STAFF)
    removed = await api_client.delete(f"/api/v1/members/{staff.user_id}", headers=owner.headers)
    assert removed.status_code == 204
    assert_unauthorized(
        await api_client.post("/api/v1/auth/refresh", json={"refresh_token": staff.refresh_token})
    )


async def test_role_change_reaches_the_refreshed_token(api_client: httpx.AsyncClient) -> None:
    """A member promoted after login acts with the new role once their token is refreshed."""
    owner = await register_and_login(api_client)
    staff = await add_member_and_login(api_client, owner, Role.STAFF)
    promoted = await api_client.patch(
        f"/api/v1/members/{staff.user_id}", json={"role": "admin"}, headers=owner.headers
    )
    assert promoted.json()["role"] == "admin"
    refreshed = await api_client.post("/api/v1/auth/refresh", json={"refresh_token": staff.refresh_token})
    me = await api_client.get("/api/v1/me", headers=bearer(refreshed.json()["access_token"]))
    assert me.json()["role"] == "admin"


async def test_api_key_authenticates_until_revoked(api_client: httpx.AsyncClient) -> None:
    """An API key acts with its role (/me shows the key, no user); once revoked it gets a 401."""
    owner = await register_and_login(api_client)
    issued = await create_api_key(api_client, owner, Role.STAFF, name="till")
    headers = {"X-API-Key": str(issued["key"])}
    me = (await api_client.get("/api/v1/me", headers=headers)).json()
    assert (me["user"], me["api_key_id"], me["role"], me["via"]) == (None, issued["id"], "staff", "api_key")

    listed = (await api_client.get("/api/v1/api-keys", headers=owner.headers)).json()
    assert [key["id"] for key in listed] == [issued["id"]]
    assert "key" not in listed[0]

    assert (
        await api_client.delete(f"/api/v1/api-keys/{issued['id']}", headers=owner.headers)
    ).status_code == 204
    assert_unauthorized(await api_client.get("/api/v1/me", headers=headers))


async def test_password_reset_request_is_always_accepted(api_client: httpx.AsyncClient) -> None:
    """Known or unknown address, the answer is the same 202: no account enumeration."""
    owner = await register_and_login(api_client)
    for email in (owner.email, unique_email()):
        response = await api_client.post("/api/v1/auth/password-reset", json={"email": email})
        assert response.status_code == 202
        assert response.content in {b"", b"null"}


async def test_password_reset_confirm_with_bad_token_is_401(api_client: httpx.AsyncClient) -> None:
    """An unknown reset token is refused with a 401 problem."""
    response = await api_client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": "nope", "new_password": "Another-Long-Password-9"},
    )
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM)


async def test_auth_routes_are_not_under_the_api_rate_limits(
    api_client: httpx.AsyncClient, api_app: FastAPI
) -> None:
    """With the API limit refusing everything, sign-up, login, refresh and logout still work."""

    async def refuse_everything() -> None:
        raise RateLimitedError("limit reached", retry_after_s=60)

    api_app.dependency_overrides[enforce_api_limits] = refuse_everything
    try:
        owner = await register_and_login(api_client)
        refreshed = await api_client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
        assert refreshed.status_code == 200
        logout = await api_client.post("/api/v1/auth/logout", json=refreshed.json())
        assert logout.status_code == 204
        reset = await api_client.post("/api/v1/auth/password-reset", json={"email": owner.email})
        assert reset.status_code == 202
        # The override is in force where the gateway applies the limits.
        limited = await api_client.get("/api/v1/audit-events", headers=owner.headers)
        assert limited.status_code == 429
    finally:
        del api_app.dependency_overrides[enforce_api_limits]


async def test_api_key_headers_helper_gives_a_working_key(api_client: httpx.AsyncClient) -> None:
    """The shared helper's key authenticates (other contexts' tests rely on it)."""
    owner = await register_and_login(api_client)
    response = await api_client.get(
        "/api/v1/me", headers=await api_key_headers(api_client, owner, Role.ADMIN)
    )
    assert response.json()["role"] == "admin"


@pytest.fixture
def log_file(api_app: FastAPI, tmp_path: Path) -> Iterator[Path]:
    """Folio's real logging pipeline writing JSON lines to a file this test reads."""
    path = tmp_path / "gateway.jsonl"
    logging_settings = _settings(api_app).logging.model_copy(update={"file": path, "sampling": {}})
    configure_logging(logging_settings, service="gateway")
    yield path
    shutdown_logging()


def _log_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_access_log_names_the_principal(api_client: httpx.AsyncClient, log_file: Path) -> None:
    """The access line of an authenticated request carries the caller's tenant_id and user_id."""
    owner = await register_and_login(api_client)
    response = await api_client.get("/api/v1/me", headers=owner.headers)
    shutdown_logging()  # flush
    lines = _log_lines(log_file)
    (access,) = [
        line
        for line in lines
        if line.get("event") == "http.request"
        and line.get("correlation_id") == response.headers["x-request-id"]
    ]
    assert access["tenant_id"] == str(owner.tenant_id)
    assert access["user_id"] == str(owner.user_id)
    assert access["status"] == 200


async def test_registrations_and_reset_requests_are_throttled_per_ip(
    api_client: httpx.AsyncClient, api_app: FastAPI
) -> None:
    """Past `identity.anonymous_rate_per_ip`, sign-up and reset requests get 429 with Retry-After."""
    platform = api_app.state.platform
    identity = platform.settings.identity.model_copy(update={"anonymous_rate_per_ip": "2/hour"})
    platform.settings = platform.settings.model_copy(update={"identity": identity})

    await register_shop(api_client)
    await api_client.post("/api/v1/auth/password-reset", json={"email": unique_email("nobody")})
    refused = await api_client.post("/api/v1/auth/password-reset", json={"email": unique_email("nobody")})

    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["code"] == "rate-limited"
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.headers["RateLimit-Policy"] == "2;w=3600"


async def test_login_right_after_a_reset_is_not_throttled(
    api_client: httpx.AsyncClient, api_app: FastAPI, pg_database: Database
) -> None:
    """Locked out and throttled on Redis, a reset lets the owner log in at once; the IP window is kept."""
    platform = api_app.state.platform
    identity = platform.settings.identity.model_copy(
        update={"lockout_threshold": 3, "login_rate_per_account": "5/minute", "login_rate_per_ip": "7/minute"}
    )
    platform.settings = platform.settings.model_copy(update={"identity": identity})
    slug, email = unique_slug(), unique_email("owner")
    await register_shop(api_client, slug=slug, email=email)

    async def attempt(password: str, address: str = email) -> httpx.Response:
        body = {"shop_slug": slug, "email": address, "password": password}
        return await api_client.post("/api/v1/auth/token", json=body)

    statuses = [(await attempt("Wrong-Password-123")).status_code for _ in range(3)]
    statuses += [(await attempt(PASSWORD)).status_code for _ in range(3)]
    assert statuses == [401, 401, 423, 423, 423, 429]

    token = await last_link_token(pg_database, email)
    confirm = {"token": token, "new_password": "Fresh-Start-Pass-88"}
    assert (await api_client.post("/api/v1/auth/password-reset/confirm", json=confirm)).status_code == 204
    assert (await attempt("Fresh-Start-Pass-88")).status_code == 200

    # Seven attempts came from this client's IP: its window is full for every account.
    other = await attempt(PASSWORD, unique_email("other"))
    assert other.status_code == 429
    assert other.headers["RateLimit-Policy"] == "7;w=60"
