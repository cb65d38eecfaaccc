"""Integration fixtures: the gateway app wired to the real PostgreSQL and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from folio.bootstrap import build_platform
from folio.core.db import Database
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings
from folio.entrypoints.gateway.app import create_app


@pytest.fixture
async def api_app(
    migrated_postgres: Settings, pg_database: Database, redis_limiter: RateLimiter
) -> AsyncIterator[FastAPI]:
    """The gateway app over the migrated PostgreSQL (app role) and Redis, its lifespan running."""
    platform = build_platform(migrated_postgres, database=pg_database, rate_limiter=redis_limiter)
    app = create_app(migrated_postgres, platform=platform)
    async with app.router.lifespan_context(app):
        yield app
    await platform.aclose()  # what it built for itself (the search client), not the shared fixtures


@pytest.fixture
async def api_client(api_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to ``api_app`` in-process (no socket)."""
    transport = httpx.ASGITransport(app=api_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://folio.test") as client:
        yield client
