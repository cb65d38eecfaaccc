"""Fixtures of the live dashboard's tests: the services' Redis, shops of their own, a served gateway."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import uvicorn
from fastapi import FastAPI
from redis.asyncio import Redis

from folio.core.ratelimit import RateLimiter
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.identity.api import issue_access_token
from folio.live.api import LiveStore
from tests.conftest import free_port


@pytest.fixture
async def redis(settings: Settings, require_service: Callable[[str], None]) -> AsyncIterator[Redis]:
    """The services' Redis (the cache server the gateway's hub uses)."""
    require_service("redis")
    client = Redis.from_url(settings.cache_url)
    yield client
    await client.aclose()


@pytest.fixture
async def shops(redis: Redis) -> AsyncIterator[Callable[[], uuid.UUID]]:
    """Fresh shop ids; their live keys (``folio:live:<id>:*``) are deleted afterwards."""
    made: list[uuid.UUID] = []

    def new_shop() -> uuid.UUID:
        made.append(uuid.uuid4())
        return made[-1]

    yield new_shop
    for tenant_id in made:
        await drop_live_state(redis, tenant_id)


async def drop_live_state(redis: Redis, tenant_id: uuid.UUID) -> None:
    """Delete the live keys of ``tenant_id`` (``folio:live:<id>:*``)."""
    keys = [key async for key in redis.scan_iter(match=f"folio:live:{tenant_id}:*", count=500)]
    if keys:
        await redis.delete(*keys)


@pytest.fixture
def store(redis: Redis) -> LiveStore:
    """The live store on the services' Redis."""
    return LiveStore(redis)


def token_for(settings: Settings, tenant_id: uuid.UUID, role: Role = Role.OWNER) -> str:
    """An access token of a member of ``tenant_id`` (verified without the database)."""
    principal = Principal(tenant_id=tenant_id, role=role, user_id=uuid.uuid4(), via="token")
    return issue_access_token(settings, principal)


async def spend_request_window(limiter: RateLimiter, settings: Settings, principal: Principal) -> None:
    """Spend ``principal``'s per-credential window as the REST API's requests do (its keys)."""
    for _ in range(100_000):
        admission = await limiter.admit(
            [(settings.api.rate_limit_per_key, ("api", principal.rate_limit_key))]
        )
        if admission.refused_by is not None:
            return
    raise AssertionError("the window never filled")


@pytest.fixture
async def served(api_app: FastAPI) -> AsyncIterator[str]:
    """The gateway app (its lifespan and hub running) behind uvicorn on a free port: its ``host:port``."""
    port = free_port()
    # log_config=None: uvicorn's own dictConfig would detach its loggers from the suite's logging.
    server = uvicorn.Server(
        uvicorn.Config(api_app, port=port, lifespan="off", log_level="warning", log_config=None)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, no event to wait on
        await asyncio.sleep(0.02)
    await api_app.state.live_hub.subscribed.wait()
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    await task
