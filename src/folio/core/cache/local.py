"""L1: the in-process cache, TTL + LRU, bounded by entry count and by total bytes.

Why both bounds: a count alone lets a few large values (a listing page) take the
process's memory; bytes alone let millions of tiny values cost their per-object
overhead. Values are the caller's encoded ``bytes`` (the codec runs before the cache),
so the byte bound is exact for payloads; Python's per-entry overhead (the key, the
``Entry``, the dict slot: some 200 bytes) is not counted, which is what ``max_entries``
is for.

Each entry lives until the earlier of its L1 TTL and the end of its stale window. The
L1 TTL is the staleness bound of the hierarchy: an entry whose invalidation this process
never heard is dropped by then at the latest. Expired entries are dropped when read, or
evicted as least recently used; no timer runs. A tag index makes ``pop_tag`` cost the
entries it drops, not the whole cache.

Why watches: a read that misses here goes to L2 or the origin and comes back later to
``put`` what it found. If ``pop``, ``pop_tag`` or ``clear`` ran meanwhile (an
invalidation, local or broadcast), that value may predate it and must not be kept. A
``Watch`` opened before the read records the invalidations that touch it, and ``put``
with it refuses a spoiled value. Watches live only while their read is in flight, so
this costs memory for the reads in flight, not a counter per key ever invalidated.

Not thread-safe: it belongs to one event loop, like the rest of ``folio.core.cache``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from folio.core.cache.entry import Entry

__all__ = ["Clock", "LocalCache", "Watch"]

Clock = Callable[[], float]
"""Wall-clock seconds (``time.time``); tests pass a fake one."""


class Watch:
    """What was invalidated about one key while a read of it was in flight (see the module docstring).

    A context manager: registered with its L1 on entry, forgotten on exit.
    """

    __slots__ = ("_watches", "dropped_tags", "key", "spoiled")

    def __init__(self, key: str, watches: set[Watch]) -> None:
        self.key = key
        self.spoiled = False
        self.dropped_tags: set[str] = set()
        self._watches = watches

    def __enter__(self) -> Watch:
        self._watches.add(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._watches.discard(self)

    def spoils(self, entry: Entry) -> bool:
        """Whether ``entry``, read while this watch was open, may predate an invalidation."""
        return self.spoiled or not self.dropped_tags.isdisjoint(entry.tags)


class LocalCache:
    """An LRU map of key to ``Entry`` with a TTL, at most ``max_entries`` and ``max_bytes``."""

    def __init__(
        self,
        *,
        ttl_s: float,
        max_entries: int,
        max_bytes: int,
        clock: Clock = time.time,
        on_evict: Callable[[int], None] = lambda _count: None,
    ) -> None:
        """``on_evict`` is told how many entries the bounds pushed out (the metrics count them)."""
        if ttl_s <= 0 or max_entries <= 0 or max_bytes <= 0:
            raise ValueError("an L1 needs a positive TTL, entry bound and byte bound")
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._on_evict = on_evict
        self._entries: OrderedDict[str, tuple[Entry, float]] = OrderedDict()
        self._by_tag: dict[str, set[str]] = {}
        self._bytes = 0
        self._watches: set[Watch] = set()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """Total payload bytes held (expired entries not yet dropped included)."""
        return self._bytes

    def get(self, key: str) -> Entry | None:
        """The entry for ``key`` (now the most recently used), or None when absent or expired."""
        found = self._entries.get(key)
        if found is None:
            return None
        entry, expires_at = found
        if self._clock() >= expires_at:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def watch(self, key: str) -> Watch:
        """``with l1.watch(key) as watch``: note invalidations of ``key`` and of tags; pass it to ``put``."""
        # A class, not @contextmanager: this runs on every L2 hit, and a generator costs more.
        return Watch(key, self._watches)

    def put(self, key: str, entry: Entry, *, watch: Watch | None = None) -> bool:
        """Hold ``entry`` until the earlier of the L1 TTL and its stale window's end; whether it is held.

        With ``watch`` (opened before ``entry`` was read), an entry that an invalidation
        since then may have made stale is not held. A value larger than ``max_bytes`` is
        not held (it would evict everything else). Least recently used entries are
        evicted until both bounds hold.
        """
        if watch is not None and watch.spoils(entry):
            return False
        self._drop(key)
        size = len(entry.value)
        if size > self.max_bytes:
            return False
        expires_at = min(self._clock() + self.ttl_s, entry.stale_until)
        self._entries[key] = (entry, expires_at)
        self._bytes += size
        for tag in entry.tags:
            self._by_tag.setdefault(tag, set()).add(key)
        evicted = 0
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))
            evicted += 1
        if evicted:
            self._on_evict(evicted)
        return True

    def pop(self, key: str) -> None:
        """Drop ``key`` if held, and spoil the reads of it in flight (an invalidation)."""
        self._drop(key)
        for watch in self._watches:
            if watch.key == key:
                watch.spoiled = True

    def pop_tag(self, tag: str) -> None:
        """Drop every entry carrying ``tag``, and spoil reads in flight of values that carry it."""
        for key in list(self._by_tag.get(tag, ())):
            self._drop(key)
        for watch in self._watches:
            watch.dropped_tags.add(tag)

    def clear(self) -> None:
        """Drop everything and spoil every read in flight (the channel was lost: anything may be stale)."""
        self._entries.clear()
        self._by_tag.clear()
        self._bytes = 0
        for watch in self._watches:
            watch.spoiled = True

    def _drop(self, key: str) -> None:
        found = self._entries.pop(key, None)
        if found is None:
            return
        entry = found[0]
        self._bytes -= len(entry.value)
        for tag in entry.tags:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]
