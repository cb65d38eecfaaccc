"""Fixtures for the API limit tests: the gateway app with rate limits and quotas of the test's choosing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from folio.bootstrap import build_platform
from folio.core.db import Database
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings
from folio.entrypoints.gateway.app import create_app

LimitedApp = Callable[..., AbstractAsyncContextManager[tuple[FastAPI, httpx.AsyncClient]]]


def tuned(
    settings: Settings, *, api: dict[str, Any] | None = None, tenancy: dict[str, Any] | None = None
) -> Settings:
    """``settings`` with some `api.*` and `tenancy.*` fields replaced."""
    return settings.model_copy(
        update={
            "api": settings.api.model_copy(update=api or {}),
            "tenancy": settings.tenancy.model_copy(update=tenancy or {}),
        }
    )


@pytest.fixture
def limited_app(migrated_postgres: Settings, pg_database: Database, redis_limiter: RateLimiter) -> LimitedApp:
    """Call with `api=` / `tenancy=` overrides; yields the running app and a client for it.

    The lifespan ends with the block, so a test can check what the shutdown flush wrote.
    """

    @asynccontextmanager
    async def start(
        *, api: dict[str, Any] | None = None, tenancy: dict[str, Any] | None = None
    ) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
        settings = tuned(migrated_postgres, api=api, tenancy=tenancy)
        platform = build_platform(settings, database=pg_database, rate_limiter=redis_limiter)
        app = create_app(settings, platform=platform)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://folio.test") as client:
                yield app, client
        await platform.aclose()  # what it built for itself (the search client), not the shared fixtures

    return start
