"""FastAPI plumbing every context's HTTP adapter shares: the wired platform as dependencies.

Contexts sit below the entry points, so they cannot import the gateway or
``folio.bootstrap``; they reach the process's wired adapters through these
dependencies, which read ``request.app.state.platform`` (set in the gateway's
lifespan). Keep this package to dependencies and OpenAPI helpers: no domain logic.
"""

from __future__ import annotations

from typing import Annotated, Protocol, cast

from fastapi import Depends, Request

from folio.core.db import Database
from folio.core.errors import PROBLEM_MEDIA_TYPE, Problem
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings

__all__ = [
    "DatabaseDep",
    "RateLimiterDep",
    "SettingsDep",
    "WiredPlatform",
    "client_ip",
    "problem_responses",
]


class WiredPlatform(Protocol):
    """What a context's adapter may use of the process's ``folio.bootstrap.Platform``."""

    settings: Settings
    database: Database
    rate_limiter: RateLimiter


def platform_of(request: Request) -> WiredPlatform:
    """The platform the gateway's lifespan wired for this app."""
    return cast("WiredPlatform", request.app.state.platform)


def _database(request: Request) -> Database:
    return platform_of(request).database


def _settings(request: Request) -> Settings:
    return platform_of(request).settings


def _rate_limiter(request: Request) -> RateLimiter:
    return platform_of(request).rate_limiter


DatabaseDep = Annotated[Database, Depends(_database)]
SettingsDep = Annotated[Settings, Depends(_settings)]
RateLimiterDep = Annotated[RateLimiter, Depends(_rate_limiter)]


def client_ip(request: Request) -> str:
    """The peer address (the gateway binds loopback; a proxy in front sets it via uvicorn's proxy headers)."""
    return request.client.host if request.client is not None else "unknown"


def problem_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI ``responses`` entries documenting each status as a problem+json body."""
    return {
        status: {
            "model": Problem,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
