"""Tokens on a real gateway process: the login journey, and signing-key rotation across restarts.

Key rotation is a configuration change, so it is tested the way an operator does it:
restart the gateway with a new ``FOLIO_IDENTITY_JWT_KEYS`` / ``JWT_ACTIVE_KID`` and
check which of the tokens issued before still work.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from folio.core.settings import Settings
from tests.support.gateway_server import FAST_ARGON2_ENV, running_gateway
from tests.support.identity import PASSWORD, bearer, unique_email, unique_slug

pytestmark = pytest.mark.e2e

OLD_KEY = "e2e-old-signing-key-" + "0123456789abcdef" * 3
NEW_KEY = "e2e-new-signing-key-" + "fedcba9876543210" * 3


def _keys_env(keys: dict[str, str], active: str) -> dict[str, str]:
    return {
        **FAST_ARGON2_ENV,
        "FOLIO_IDENTITY_JWT_KEYS": json.dumps(keys),
        "FOLIO_IDENTITY_JWT_ACTIVE_KID": active,
    }


def _sign_up(http: httpx.Client) -> dict[str, str]:
    """Register a shop and log its owner in; returns the token pair."""
    slug, email = unique_slug("e2e"), unique_email("e2e")
    registered = http.post(
        "/api/v1/auth/register",
        json={
            "shop_name": "E2E",
            "shop_slug": slug,
            "email": email,
            "display_name": "E",
            "password": PASSWORD,
        },
    )
    assert registered.status_code == 201, registered.text
    tokens = http.post("/api/v1/auth/token", json={"shop_slug": slug, "email": email, "password": PASSWORD})
    assert tokens.status_code == 200, tokens.text
    pair: dict[str, str] = tokens.json()
    return pair


def test_login_refresh_reuse_and_logout_over_a_socket(migrated_postgres: Settings, tmp_path: Path) -> None:
    """Register, log in, call /me, rotate, detect a replay, and log out against a real server."""
    del migrated_postgres  # requested so the schema is at head before the server starts
    with running_gateway(tmp_path, FAST_ARGON2_ENV) as url, httpx.Client(base_url=url, timeout=10) as http:
        first = _sign_up(http)
        me = http.get("/api/v1/me", headers=bearer(first["access_token"]))
        assert me.status_code == 200
        assert me.json()["role"] == "owner"

        second = http.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert second.status_code == 200
        replay = http.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert replay.status_code == 401
        assert replay.headers["www-authenticate"] == "Bearer"
        killed = http.post("/api/v1/auth/refresh", json={"refresh_token": second.json()["refresh_token"]})
        assert killed.status_code == 401

        fresh = _sign_up(http)
        assert (
            http.post("/api/v1/auth/logout", json={"refresh_token": fresh["refresh_token"]}).status_code
            == 204
        )
        after = http.post("/api/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
        assert after.status_code == 401


def test_signing_key_rotation_without_downtime(migrated_postgres: Settings, tmp_path: Path) -> None:
    """Old tokens keep working after a new key becomes active, and stop once the old key is removed."""
    del migrated_postgres
    with (
        running_gateway(tmp_path, _keys_env({"old": OLD_KEY}, "old")) as url,
        httpx.Client(base_url=url) as http,
    ):
        before = _sign_up(http)

    rotated = _keys_env({"old": OLD_KEY, "new": NEW_KEY}, "new")
    with running_gateway(tmp_path, rotated) as url, httpx.Client(base_url=url, timeout=10) as http:
        assert http.get("/api/v1/me", headers=bearer(before["access_token"])).status_code == 200
        # The refresh token signed with the old key still refreshes; its successor uses the new key.
        renewed = http.post("/api/v1/auth/refresh", json={"refresh_token": before["refresh_token"]})
        assert renewed.status_code == 200
        during = renewed.json()
        assert http.get("/api/v1/me", headers=bearer(during["access_token"])).status_code == 200

    with (
        running_gateway(tmp_path, _keys_env({"new": NEW_KEY}, "new")) as url,
        httpx.Client(base_url=url) as http,
    ):
        assert http.get("/api/v1/me", headers=bearer(before["access_token"])).status_code == 401
        assert http.get("/api/v1/me", headers=bearer(during["access_token"])).status_code == 200
        again = http.post("/api/v1/auth/refresh", json={"refresh_token": during["refresh_token"]})
        assert again.status_code == 200
