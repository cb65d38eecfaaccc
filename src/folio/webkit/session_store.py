"""The web sessions' Redis client as the platform wires it: ``SESSION_REDIS`` and when it is used.

Apart from ``folio.webkit.sessions`` (which re-exports all three) because that module
loads Flask and Flask-Session, and ``folio.bootstrap`` wires this client in every
process: the workers and the gRPC servers, which serve no page, need the slot, not Flask.
"""

from __future__ import annotations

import redis

from folio.core.platform import Slot
from folio.core.settings import Settings

__all__ = ["SESSION_REDIS", "session_redis", "sessions_in_redis"]

SESSION_REDIS: Slot[redis.Redis] = Slot("web session store (Redis)")
"""Where bootstrap puts the web sessions' Redis client (when ``sessions_in_redis``)."""


def sessions_in_redis(settings: Settings) -> bool:
    """Whether ``settings`` keep web sessions on a cache server (else in files: lite mode)."""
    return settings.cache.backend == "redis" or settings.cache.url is not None


def session_redis(settings: Settings) -> redis.Redis:
    """A Redis client for the web sessions on ``settings.cache_url`` (it connects on first use).

    Synchronous on purpose: Flask views run in a2wsgi's worker threads, not on the event
    loop; its connection pool is thread-safe.
    """
    return redis.Redis.from_url(settings.cache_url)
