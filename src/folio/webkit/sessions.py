"""Server-side sessions (Flask-Session): the cookie holds only a random id.

The store follows ``cache.backend``: Redis (the gateway's cache server) when it is
``redis`` or a ``cache.url`` is set; in lite mode (``memory``) a file cache under
``<home>/web-sessions``, so sessions survive a restart of the single process. The
cookie is ``folio_session``, HttpOnly, SameSite=Lax, Secure when
``identity.cookie_secure`` and scoped to ``/app``; sessions expire after
``identity.session_ttl_s`` without a request.

Key contracts:

- The Redis client is the platform's: ``folio.bootstrap.build_platform`` provides it
  under ``SESSION_REDIS`` (``sessions_in_redis`` says when; both live in the Flask-free
  ``folio.webkit.session_store``) and closes it with the platform. The Flask app is
  configured before the gateway's lifespan builds the platform, so the session
  interface resolves the client per request, from the request's portal
  (``folio.webkit.bridge``): the web app opens no client of its own and nothing
  connects at import or at ``configure_sessions``.
- A request with no portal (the Flask app outside the gateway) gets no session store:
  every page but the stylesheet answers 503, as a service page does there.
- Signing in and out always moves the session to a fresh id (``rotate_session``), so
  an id planted before login (session fixation) or seen before logout is worthless.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import redis
from cachelib.file import FileSystemCache
from flask import Flask, Request, current_app, request, session
from flask.sessions import SessionMixin
from flask_session import Session  # type: ignore[import-untyped]  # ships no py.typed
from flask_session.base import ServerSideSessionInterface  # type: ignore[import-untyped]  # as above
from flask_session.redis import RedisSessionInterface  # type: ignore[import-untyped]  # as above

from folio.core.errors import ServiceUnavailableError
from folio.core.settings import Settings
from folio.webkit.bridge import find_portal
from folio.webkit.security import STATIC_ENDPOINT
from folio.webkit.session_store import SESSION_REDIS, session_redis, sessions_in_redis

__all__ = [
    "COOKIE_NAME",
    "SESSION_REDIS",
    "configure_sessions",
    "rotate_session",
    "session_redis",
    "sessions_in_redis",
]

COOKIE_NAME = "folio_session"
KEY_PREFIX = "folio:web-session:"
SESSION_ID_LENGTH = 32
"""Random bytes in a session id."""


class _PlatformRedisSessionInterface(RedisSessionInterface):  # type: ignore[misc]  # Flask-Session is untyped
    """Flask-Session's Redis sessions on the client in the request's platform (``SESSION_REDIS``)."""

    def __init__(self, app: Flask, **options: Any) -> None:
        # Past RedisSessionInterface.__init__: it wants a client now (and would make one
        # for localhost without it); this one has none until a request brings the platform.
        ServerSideSessionInterface.__init__(self, app, **options)

    @property
    def client(self) -> redis.Redis:
        """The platform's session client (``open_session`` has checked there is a portal)."""
        found = find_portal()
        if found is None:
            raise ServiceUnavailableError("the web app is not connected to the gateway yet")
        return found.platform.get(SESSION_REDIS)

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        """The request's session; None (Flask's null session) when no portal brings a store."""
        if find_portal() is None:
            return None
        session: SessionMixin = super().open_session(app, request)
        return session


def configure_sessions(app: Flask, settings: Settings, *, cookie_path: str) -> None:
    """Wire the server-side session store and the cookie flags into ``app`` (connects to nothing)."""
    identity = settings.identity
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=identity.cookie_secure,
        SESSION_COOKIE_PATH=cookie_path,
        SESSION_PERMANENT=True,
        SESSION_REFRESH_EACH_REQUEST=True,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(seconds=identity.session_ttl_s),
        SESSION_KEY_PREFIX=KEY_PREFIX,
        SESSION_ID_LENGTH=SESSION_ID_LENGTH,
    )
    if sessions_in_redis(settings):
        app.session_interface = _PlatformRedisSessionInterface(
            app, key_prefix=KEY_PREFIX, permanent=True, sid_length=SESSION_ID_LENGTH
        )
        app.before_request(_require_session_store)
        return
    folder = settings.home / "web-sessions"
    folder.mkdir(parents=True, exist_ok=True)
    store = FileSystemCache(str(folder), threshold=10_000, default_timeout=identity.session_ttl_s)
    app.config.update(SESSION_TYPE="cachelib", SESSION_CACHELIB=store)
    Session(app)


def _require_session_store() -> None:
    """503 for a page whose request brought no session store (before every other hook)."""
    if request.endpoint != STATIC_ENDPOINT and current_app.session_interface.is_null_session(session):
        raise ServiceUnavailableError("the web app is not connected to the gateway yet")


def rotate_session(**values: Any) -> None:
    """Drop the session's data and id and start a fresh one holding ``values`` (login, logout).

    The old id is deleted from the store, so a fixed or stolen id stops working.
    """
    # Regeneration only acts on a non-empty session; mark it so it always does.
    session["rotating"] = True
    interface: Any = current_app.session_interface  # Flask-Session's, which has ``regenerate``
    interface.regenerate(session)
    session.clear()
    session.update(values)
