"""Folio's cache: an in-process L1 over a Redis L2 over the origin, with broadcast invalidation.

Key contracts:

- ``platform.get(CACHES).named("principals", l1_ttl_s=...)`` is a ``Cache``;
  ``get_or_load(key, loader, ttl_s=..., tags=...)`` returns bytes, ``Cached(cache, T)``
  returns ``T``. The loader is the origin; it runs once per key per expiry however many
  callers miss at once, in this process (single flight) and across processes (a lease).
- ``invalidate(key)`` / ``invalidate_tag(tag)`` drop the value from L2 and this L1 and
  broadcast to every other process's L1. Staleness bound: ``l1_ttl_s`` (normally the
  pub/sub delay); see ``hierarchy``.
- A load that overlaps an invalidation returns its value to its callers but caches it
  nowhere (generation counters in L2, watches in L1): invalidation is never undone.
- Writes: ``Cache.write_through`` (origin, then cache, in one call) or ``WriteBack``
  (buffered, flushed in batches; what is pending when the process is killed is lost).
- Lite mode (``cache.backend = "memory"``): L1 only, invalidation in this process.
- Metrics ``folio_cache_*`` per cache name and layer (``metrics``).

Modules: ``entry`` (a value and its freshness), ``local`` (L1), ``shared`` (L2),
``scripts`` (Lua by ``EVALSHA``), ``flight`` (single flight), ``hierarchy`` (``Cache``),
``caches`` (``Caches``, the slot), ``broadcast`` (the invalidation message), ``codec``
(``Cached``), ``writeback`` (``WriteBack``), ``metrics``.
"""

from __future__ import annotations

from folio.core.cache.caches import CACHES, Caches
from folio.core.cache.codec import Cached
from folio.core.cache.entry import Entry
from folio.core.cache.hierarchy import Cache, Loader, Random, refresh_early
from folio.core.cache.local import Clock, LocalCache, Watch
from folio.core.cache.shared import Lease, PubSubClient, RedisClient, SharedCache
from folio.core.cache.writeback import WriteBack

__all__ = [
    "CACHES",
    "Cache",
    "Cached",
    "Caches",
    "Clock",
    "Entry",
    "Lease",
    "Loader",
    "LocalCache",
    "PubSubClient",
    "Random",
    "RedisClient",
    "SharedCache",
    "Watch",
    "WriteBack",
    "refresh_early",
]
