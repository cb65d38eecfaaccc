"""``LocalLocks``: the locks of one process, for lite mode (SQLite, no servers).

Exclusion holds between the coroutines of this process only:
two processes each get the "lock". Lite mode runs one process (``folio up --lite``),
which is why bootstrap chooses these there and Redlock everywhere else; never choose
them (``locks.backend = "local"``) where two processes could work on one resource.

Fencing tokens are microseconds since the epoch (at least one more than the last one
handed out here), so they keep growing across restarts of the process, which the
database's ``lock_fences`` row outlives; a wall clock set back by more than the time
between two acquisitions would make the fence refuse writes until it catches up.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable
from dataclasses import replace

from folio.locks.lease import Lease
from folio.locks.manager import Locks, Refusal
from folio.locks.settings import LockSettings

__all__ = ["LocalLocks"]


class LocalLocks(Locks):
    """Locks held in this process's memory (lite mode; see the module docstring)."""

    def __init__(self, settings: LockSettings, *, random: Callable[[], float] = random.random) -> None:
        super().__init__(settings, random=random)
        self._held: dict[str, tuple[str, float]] = {}
        """resource -> (owner, monotonic end) of the current holder."""
        self._last_token = 0

    async def _try_acquire(self, resource: str, ttl_s: float) -> Lease | Refusal:
        now = time.monotonic()
        held = self._held.get(resource)
        if held is not None and held[1] > now:
            return Refusal.BUSY
        self._last_token = max(self._last_token + 1, time.time_ns() // 1000)
        owner = secrets.token_hex(16)
        self._held[resource] = (owner, now + ttl_s)
        return Lease(resource, self._last_token, ttl_s, now + ttl_s, owner)

    async def extend(self, lease: Lease) -> Lease | None:
        """Push the end back by the TTL if the lock is still ``lease``'s."""
        now = time.monotonic()
        held = self._held.get(lease.resource)
        if held is None or held[0] != lease.owner or held[1] <= now:
            return None
        self._held[lease.resource] = (lease.owner, now + lease.ttl_s)
        return replace(lease, valid_until=now + lease.ttl_s)

    async def release(self, lease: Lease) -> None:
        """Free the lock if it is still ``lease``'s."""
        held = self._held.get(lease.resource)
        if held is not None and held[0] == lease.owner:
            del self._held[lease.resource]

    async def aclose(self) -> None:
        """Nothing to close."""
