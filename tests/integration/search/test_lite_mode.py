"""Lite mode (SQLite, no servers): every search endpoint answers 503 search-unavailable, saying why."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from folio.bootstrap import build_platform
from folio.core.db import open_database
from folio.core.migrations import upgrade
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings
from folio.entrypoints.gateway.app import create_app
from tests.support.identity import register_and_login

pytestmark = pytest.mark.integration


@pytest.fixture
async def lite_client(settings: Settings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway on a fresh SQLite file with in-memory limits: no server of any kind."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'folio.db'}"
    upgrade(url)
    cheap = {"argon2_time_cost": 1, "argon2_memory_kib": 8_192, "argon2_parallelism": 1}
    lite = settings.model_copy(
        update={
            "database": settings.database.model_copy(
                update={"backend": "sqlite", "url": None, "sqlite_path": tmp_path / "folio.db"}
            ),
            "cache": settings.cache.model_copy(update={"backend": "memory", "url": None}),
            "identity": settings.identity.model_copy(update=cheap),
        }
    )
    async with open_database(lite.database, url) as database:
        platform = build_platform(lite, database=database, rate_limiter=RateLimiter("memory://"))
        app = create_app(lite, platform=platform)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://folio.test") as client:
                yield client
        # What the platform built for itself: with a Redis cache configured, a listener's
        # connection, which outlived the test's loop and was collected in a later test.
        await platform.aclose()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/search?q=tolkien"),
        ("GET", "/api/v1/search/works?q=tolkien"),
        ("GET", "/api/v1/search/suggest?q=tol"),
        ("POST", "/api/v1/search/keys"),
        ("GET", "/api/v1/search/synonyms"),
        ("DELETE", "/api/v1/search/synonyms/x"),
    ],
)
async def test_search_is_unavailable_in_lite_mode(
    lite_client: httpx.AsyncClient, method: str, path: str
) -> None:
    """Each search endpoint answers a 503 problem that names lite mode and what to run instead."""
    owner = await register_and_login(lite_client)
    response = await lite_client.request(method, path, headers=owner.headers)
    assert response.status_code == 503, response.text
    problem = response.json()
    assert problem["code"] == "search-unavailable"
    assert "lite mode" in problem["detail"]
    assert problem["lite_mode"] is True
