"""The process's wired ``Platform`` as FastAPI dependencies.

Contexts sit below the entry points, so they cannot import the gateway or
``folio.bootstrap``; they reach the adapters bootstrap wired through these
dependencies, which read ``request.app.state.platform`` (set in the gateway's
lifespan). Nothing here builds a client: a slot the platform lacks is bootstrap's
choice, and ``Platform.get`` says so.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from folio.core.db import Database
from folio.core.objectstore import ObjectStore
from folio.core.platform import Platform
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings

__all__ = [
    "DatabaseDep",
    "ObjectStoreDep",
    "PlatformDep",
    "RateLimiterDep",
    "SettingsDep",
    "client_ip",
    "platform_of",
]


def platform_of(request: Request) -> Platform:
    """The platform the gateway's lifespan wired for this app."""
    platform: Platform = request.app.state.platform
    return platform


async def _platform(request: Request) -> Platform:
    return platform_of(request)


async def _database(request: Request) -> Database:
    return platform_of(request).database


async def _settings(request: Request) -> Settings:
    return platform_of(request).settings


async def _rate_limiter(request: Request) -> RateLimiter:
    return platform_of(request).rate_limiter


async def _object_store(request: Request) -> ObjectStore:
    return platform_of(request).object_store


PlatformDep = Annotated[Platform, Depends(_platform)]
DatabaseDep = Annotated[Database, Depends(_database)]
SettingsDep = Annotated[Settings, Depends(_settings)]
RateLimiterDep = Annotated[RateLimiter, Depends(_rate_limiter)]
ObjectStoreDep = Annotated[ObjectStore, Depends(_object_store)]


def client_ip(request: Request) -> str:
    """The peer address (the gateway binds loopback; a proxy in front sets it via uvicorn's proxy headers)."""
    return request.client.host if request.client is not None else "unknown"
