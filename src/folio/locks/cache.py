"""Lease-based caching: an entry that only the holder of its lease refreshes.

Built on ``folio.core.cache`` (storage, L1 and L2, single flight, stale-while-revalidate,
invalidation) rather than beside it: a ``LeaseCache`` is a named ``Cache`` whose loader
runs under ``Locks.hold`` on ``cache:<cache name>:<key>``. What that adds to the cache's
own load lease: the core cache's lease is advisory (a waiter that outlasts ``lease_s``
calls the origin itself, so a slow origin is called again and again), while this one
is a lock, renewed while the origin runs and spanning every process. So, across every
process that uses the same name:

- the origin is called for a key by one holder at a time, never two at once; a holder
  whose lease ends mid-load is cancelled (``LeaseLostError``) and caches nothing;
- with a stale window (``Caches.named(..., stale_s=...)``) readers get the stale value
  at once while the holder refreshes, as with any cache;
- a miss that finds the lease held waits for the holder's value (the cache's own
  polling, then up to ``wait_s`` for the lease) and gets ``LockNotAcquiredError`` if the
  holder takes longer.

What it does not do: merge the loads of different processes. A fill is not broadcast,
so a process whose L1 still holds the stale copy refreshes it too (under the lease,
after the holder), and a waiter that gets the lease once the holder released it loads
again: at most one load per process per expiry, one at a time.

For origins that must not be called concurrently or are expensive per call: a partner's
rate-limited API, a report over the whole catalogue.
"""

from __future__ import annotations

from collections.abc import Sequence

from folio.core.cache import Cache, Loader
from folio.locks.manager import Locks

__all__ = ["LeaseCache"]


class LeaseCache:
    """``cache`` whose values are loaded only under the lease on each key (see the module docstring)."""

    def __init__(self, cache: Cache, locks: Locks, *, lease_ttl_s: float, wait_s: float) -> None:
        """``lease_ttl_s`` is renewed while the origin runs; ``wait_s`` bounds a miss's wait for the lease."""
        self.cache = cache
        self._locks = locks
        self._lease_ttl_s = lease_ttl_s
        self._wait_s = wait_s

    async def get_or_load(self, key: str, loader: Loader, *, ttl_s: float, tags: Sequence[str] = ()) -> bytes:
        """The value of ``key`` (``Cache.get_or_load``), loaded by ``loader`` only under the key's lease.

        Raises ``LockNotAcquiredError`` on a miss whose lease stayed held for ``wait_s``,
        ``LeaseLostError`` when the lease ended while ``loader`` ran.
        """

        async def load_under_lease() -> bytes:
            resource = f"cache:{self.cache.name}:{key}"
            async with self._locks.hold(resource, ttl_s=self._lease_ttl_s, wait_s=self._wait_s):
                return await loader()

        return await self.cache.get_or_load(key, load_under_lease, ttl_s=ttl_s, tags=tags)

    async def invalidate(self, key: str) -> None:
        """``Cache.invalidate``: the next read loads again (under the lease)."""
        await self.cache.invalidate(key)
