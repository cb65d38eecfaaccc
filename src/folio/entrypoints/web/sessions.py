"""Server-side sessions (Flask-Session): the cookie holds only a random id.

The store follows ``cache.backend``: Redis (the gateway's cache server) when it is
``redis``; in lite mode (``memory``) a file cache under ``<home>/web-sessions``, so
sessions survive a restart of the single process. The cookie is ``folio_session``,
HttpOnly, SameSite=Lax, Secure when ``identity.cookie_secure`` and scoped to
``/app``; sessions expire after ``identity.session_ttl_s`` without a request.

Signing in and out always moves the session to a fresh id (``rotate_session``), so
an id planted before login (session fixation) or seen before logout is worthless.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import redis
from cachelib.file import FileSystemCache
from flask import Flask, current_app, session
from flask_session import Session  # type: ignore[import-untyped]  # ships no py.typed

from folio.core.settings import Settings

__all__ = ["COOKIE_NAME", "close_sessions", "configure_sessions", "rotate_session"]

COOKIE_NAME = "folio_session"
KEY_PREFIX = "folio:web-session:"
_CLOSERS = "folio.session_closers"


def configure_sessions(app: Flask, settings: Settings, *, cookie_path: str) -> None:
    """Wire the server-side session store and the cookie flags into ``app`` (connects to nothing).

    ``close_sessions(app)`` releases the store's connections at shutdown.
    """
    app.extensions.setdefault(_CLOSERS, [])
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
        SESSION_ID_LENGTH=32,
    )
    if settings.cache.backend == "redis" or settings.cache.url is not None:
        # Sync client: Flask views run in worker threads, not on the event loop. It
        # connects on first use and its pool is thread-safe.
        client = redis.Redis.from_url(settings.cache_url)
        app.config.update(SESSION_TYPE="redis", SESSION_REDIS=client)
        app.extensions[_CLOSERS].append(client.close)
    else:
        folder = settings.home / "web-sessions"
        folder.mkdir(parents=True, exist_ok=True)
        store = FileSystemCache(str(folder), threshold=10_000, default_timeout=identity.session_ttl_s)
        app.config.update(SESSION_TYPE="cachelib", SESSION_CACHELIB=store)
    Session(app)


def close_sessions(app: Flask) -> None:
    """Close the session store's connections (the gateway's shutdown)."""
    closers = app.extensions.get(_CLOSERS, [])
    while closers:
        closers.pop()()


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
