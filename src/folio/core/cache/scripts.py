"""Lua scripts run by hash (``EVALSHA``), sent in full only when Redis does not know them.

Why: the cache's scripts run on the request path (a miss takes the lease and fills, an
invalidation deletes and publishes). ``EVAL`` sends the whole source each time and makes
Redis hash it to find the compiled script; ``EVALSHA`` sends 40 hex digits. Redis forgets
its scripts on restart, ``SCRIPT FLUSH`` or failover, and then answers ``NOSCRIPT``: the
call is repeated once with ``EVAL``, which compiles and caches the script again, so the
next call by hash works. That is what redis-py's ``Script`` does, without the kernel
importing ``redis`` (the tiers forbid it; see ``shared``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable
from typing import Any, Protocol

__all__ = ["Script", "ScriptClient"]


class ScriptClient(Protocol):
    """The two script commands of ``redis.asyncio.Redis`` (``shared.RedisClient`` has them)."""

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: str | bytes | int | float) -> Awaitable[Any]:
        """Run the cached script ``sha``; ``NOSCRIPT`` when Redis does not have it."""

    def eval(self, script: str, numkeys: int, *keys_and_args: str | bytes | int | float) -> Awaitable[Any]:
        """Run (and cache) the script ``script``."""


def _is_noscript(error: Exception) -> bool:
    """Whether ``error`` is Redis's ``NOSCRIPT`` (redis-py raises ``NoScriptError`` and strips the code)."""
    return any(kind.__name__ == "NoScriptError" for kind in type(error).__mro__) or str(error).startswith(
        "NOSCRIPT"
    )


class Script:
    """One Lua script, run by its SHA-1 with a fall-back to its source."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def __call__(
        self, redis: ScriptClient, keys: list[str], args: list[str | bytes | int | float]
    ) -> Any:
        """Run the script on ``keys`` and ``args``: one round trip, two when Redis had forgotten it."""
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        # Broad on purpose: the kernel may not import redis-py's error classes (see _is_noscript).
        except Exception as error:
            if not _is_noscript(error):
                raise
        return await redis.eval(self.source, len(keys), *keys, *args)
