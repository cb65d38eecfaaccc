"""Folio's cache: an in-process L1 over a Redis L2 over the origin, with broadcast invalidation.

Key contracts:

- ``platform.get(CACHES).named("principals", l1_ttl_s=...)`` is a ``Cache``;
  ``get_or_load(key, loader, ttl_s=..., tags=...)`` returns bytes, ``Cached(cache, T)``
  returns ``T``. The loader is the origin; it runs once per key per expiry however many
  callers miss at once, in this process (single flight) and across processes (a lease).
- ``invalidate(key)`` / ``invalidate_tag(tag)`` drop the value from L2 and this L1 and
  broadcast to every other process's L1. Staleness bound: ``l1_ttl_s`` (normally the
  pub/sub delay); see ``hierarchy``.
- Lite mode (``cache.backend = "memory"``): L1 only, invalidation in this process.
- Metrics ``folio_cache_*`` per cache name and layer (``metrics``).

Modules: ``entry`` (a value and its freshness), ``local`` (L1), ``shared`` (L2),
``flight`` (single flight), ``hierarchy`` (``Cache``), ``caches`` (``Caches``, the slot),
``broadcast`` (the invalidation message), ``codec`` (``Cached``), ``metrics``.
"""

from __future__ import annotations

from folio.core.cache.caches import CACHES, Caches
from folio.core.cache.codec import Cached
from folio.core.cache.entry import Entry
from folio.core.cache.hierarchy import Cache, Loader
from folio.core.cache.local import Clock, LocalCache
from folio.core.cache.shared import PubSubClient, RedisClient, SharedCache

__all__ = [
    "CACHES",
    "Cache",
    "Cached",
    "Caches",
    "Clock",
    "Entry",
    "Loader",
    "LocalCache",
    "PubSubClient",
    "RedisClient",
    "SharedCache",
]
