"""A running gateway and a shop owner's token on it, for schema-driven (schemathesis) tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from folio.core.settings import Settings
from tests.support.gateway_server import FAST_ARGON2_ENV, running_gateway
from tests.support.identity import PASSWORD


@pytest.fixture(scope="module")
def gateway_url(migrated_postgres: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gateway subprocess with rate limits high enough for a fuzzer."""
    del migrated_postgres  # requested so the schema is at head before the server starts
    env = {
        **FAST_ARGON2_ENV,
        "FOLIO_API_RATE_LIMIT_PER_KEY": "100000/minute",
        "FOLIO_API_RATE_LIMIT_PER_TENANT": "100000/minute",
    }
    with running_gateway(Path(tmp_path_factory.mktemp("gateway")), env) as url:
        yield url


@pytest.fixture(scope="module")
def auth_headers(gateway_url: str) -> dict[str, str]:
    """A bearer token of the owner of a fresh shop on the running gateway."""
    slug, email = f"fuzz-{uuid.uuid4().hex[:10]}", f"fuzz-{uuid.uuid4().hex[:10]}@example.com"
    with httpx.Client(base_url=gateway_url, timeout=10) as http:
        registered = http.post(
            "/api/v1/auth/register",
            json={
                "shop_name": "Fuzz",
                "shop_slug": slug,
                "email": email,
                "display_name": "F",
                "password": PASSWORD,
            },
        )
        assert registered.status_code == 201, registered.text
        tokens = http.post(
            "/api/v1/auth/token", json={"shop_slug": slug, "email": email, "password": PASSWORD}
        )
        assert tokens.status_code == 200, tokens.text
        return {"Authorization": f"Bearer {tokens.json()['access_token']}"}
