"""Web sessions on the platform's Redis client: wired by bootstrap, resolved per request."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import redis
from flask import Flask
from pydantic import SecretStr

from folio.bootstrap import build_platform
from folio.core.db import Database
from folio.core.platform import Platform
from folio.core.settings import Settings
from folio.entrypoints.web.app import create_web_app
from folio.webkit.bridge import SCOPE_KEY, LoopPortal
from folio.webkit.sessions import KEY_PREFIX, SESSION_REDIS, sessions_in_redis

pytestmark = pytest.mark.unit


class DictRedis:
    """The three calls Flask-Session's Redis store makes, on a dict (a fake of ``redis.Redis``)."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, name: str) -> bytes | None:
        """The stored value, or None."""
        return self.data.get(name)

    def set(self, name: str, value: bytes, ex: int | None = None) -> None:  # noqa: ARG002 - no expiry here
        """Store ``value`` under ``name``."""
        self.data[name] = value

    def delete(self, name: str) -> None:
        """Forget ``name``."""
        self.data.pop(name, None)


def redis_settings(settings: Settings, home: Path) -> Settings:
    """The suite's settings with sessions on a cache server nobody listens on (nothing may connect)."""
    cache = settings.cache.model_copy(update={"backend": "redis", "url": SecretStr("redis://127.0.0.1:9/0")})
    return settings.model_copy(update={"home": home, "cache": cache, "profile": "dev"})


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A loop for the portal (the login page calls no service, so it never runs)."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def portal_environ(loop: asyncio.AbstractEventLoop, store: DictRedis) -> dict[str, Any]:
    """The WSGI environ a2wsgi would pass: the request's portal to a platform holding ``store``."""
    platform = Platform(
        settings=cast("Settings", None),
        database=cast("Database", None),
        rate_limiter=cast("Any", None),
        object_store=cast("Any", None),
    )
    platform.provide(SESSION_REDIS, cast("redis.Redis", store))
    return {"asgi.scope": {SCOPE_KEY: LoopPortal(loop=loop, platform=platform)}}


def test_sessions_live_on_the_platforms_client(
    settings: Settings, tmp_path: Path, loop: asyncio.AbstractEventLoop
) -> None:
    """With a cache server, a request's session is saved with the client in its platform's slot."""
    app: Flask = create_web_app(redis_settings(settings, tmp_path))
    store = DictRedis()
    with app.test_client() as client:
        response = client.get("/login", environ_base=portal_environ(loop, store))
    assert response.status_code == 200
    assert [key.startswith(KEY_PREFIX) for key in store.data] == [True]  # the CSRF token's session
    assert not (tmp_path / "web-sessions").exists()


def test_without_the_gateway_pages_answer_503(settings: Settings, tmp_path: Path) -> None:
    """With a cache server but no portal there is no session store: pages say so, the stylesheet is served."""
    with create_web_app(redis_settings(settings, tmp_path)).test_client() as client:
        response = client.get("/login")
        assert response.status_code == 503
        assert "not connected to the gateway" in response.get_data(as_text=True)
        assert "Set-Cookie" not in response.headers
        stylesheet = client.get("/static/folio.css")
        assert stylesheet.status_code == 200
        stylesheet.close()


async def test_bootstrap_wires_and_closes_the_session_client(settings: Settings, tmp_path: Path) -> None:
    """With a cache server, build_platform provides the sessions' Redis client and aclose closes it."""
    wired = redis_settings(settings, tmp_path)
    assert sessions_in_redis(wired)
    platform = build_platform(wired)
    client = platform.get(SESSION_REDIS)
    assert isinstance(client, redis.Redis)
    closed: list[bool] = []
    client.connection_pool.disconnect = lambda *_args, **_kwargs: closed.append(True)  # type: ignore[method-assign]
    await platform.aclose()
    assert closed == [True]


async def test_lite_mode_wires_no_session_client(settings: Settings, tmp_path: Path) -> None:
    """Without a cache server (lite mode) the slot stays empty: sessions are files."""
    cache = settings.cache.model_copy(update={"backend": "memory", "url": None})
    lite = settings.model_copy(update={"home": tmp_path, "cache": cache})
    assert not sessions_in_redis(lite)
    platform = build_platform(lite)
    assert platform.find(SESSION_REDIS) is None
    await platform.aclose()
