"""L1: TTL, LRU order, the entry and byte bounds, tags, with a fake clock."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from folio.core.cache import Entry, LocalCache
from tests.support.cache import FakeClock

pytestmark = pytest.mark.unit


def entry(value: bytes, *, clock: FakeClock, ttl_s: float = 60.0, tags: tuple[str, ...] = ()) -> Entry:
    """A value fresh for ``ttl_s`` from the clock's now, with no stale window."""
    return Entry(value=value, fresh_until=clock.now + ttl_s, stale_until=clock.now + ttl_s, tags=tags)


def local(clock: FakeClock, *, ttl_s: float = 10.0, entries: int = 100, size: int = 1000) -> LocalCache:
    """An L1 on ``clock`` with the given bounds."""
    return LocalCache(ttl_s=ttl_s, max_entries=entries, max_bytes=size, clock=clock)


def test_an_entry_expires_after_the_l1_ttl() -> None:
    """An entry is served until the L1 TTL, then gone."""
    clock = FakeClock()
    cache = local(clock, ttl_s=10.0)
    cache.put("k", entry(b"v", clock=clock))
    clock.now += 9.9
    assert cache.get("k") is not None
    clock.now += 0.1
    assert cache.get("k") is None
    assert len(cache) == 0


def test_an_entry_expires_with_its_stale_window_when_that_is_earlier() -> None:
    """The value's own expiry caps the L1 TTL."""
    clock = FakeClock()
    cache = local(clock, ttl_s=10.0)
    cache.put("k", entry(b"v", clock=clock, ttl_s=2.0))
    clock.now += 2.0
    assert cache.get("k") is None


def test_the_entry_bound_evicts_the_least_recently_used() -> None:
    """With room for two, reading ``a`` keeps it and ``b`` is evicted; the evictions are counted."""
    clock = FakeClock()
    evicted: list[int] = []
    cache = LocalCache(ttl_s=10.0, max_entries=2, max_bytes=1000, clock=clock, on_evict=evicted.append)
    cache.put("a", entry(b"1", clock=clock))
    cache.put("b", entry(b"2", clock=clock))
    assert cache.get("a") is not None
    cache.put("c", entry(b"3", clock=clock))
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None
    assert evicted == [1]


def test_the_byte_bound_evicts_until_the_values_fit() -> None:
    """Payload bytes are bounded: a large value pushes out as many old ones as it needs."""
    clock = FakeClock()
    evicted: list[int] = []
    cache = LocalCache(ttl_s=10.0, max_entries=100, max_bytes=10, clock=clock, on_evict=evicted.append)
    for key in "abcde":
        cache.put(key, entry(b"xx", clock=clock))
    assert cache.size_bytes == 10
    cache.put("big", entry(b"y" * 6, clock=clock))
    assert cache.size_bytes == 10
    assert [key for key in "abcde" if cache.get(key) is not None] == ["d", "e"]
    assert evicted == [3]


def test_a_value_larger_than_the_byte_bound_is_not_held() -> None:
    """One oversized value does not empty the cache."""
    clock = FakeClock()
    cache = local(clock, size=10)
    cache.put("a", entry(b"12345", clock=clock))
    cache.put("huge", entry(b"x" * 11, clock=clock))
    assert cache.get("huge") is None
    assert cache.get("a") is not None


def test_replacing_a_key_counts_its_bytes_once() -> None:
    """Putting a key again replaces its bytes rather than adding to them."""
    clock = FakeClock()
    cache = local(clock)
    cache.put("a", entry(b"12345", clock=clock))
    cache.put("a", entry(b"123", clock=clock))
    assert (len(cache), cache.size_bytes) == (1, 3)


def test_pop_tag_drops_every_entry_carrying_the_tag() -> None:
    """Only the tagged entries go; the tag index forgets dropped keys."""
    clock = FakeClock()
    cache = local(clock)
    cache.put("a", entry(b"1", clock=clock, tags=("shop:1",)))
    cache.put("b", entry(b"2", clock=clock, tags=("shop:1", "shop:2")))
    cache.put("c", entry(b"3", clock=clock, tags=("shop:2",)))
    cache.pop_tag("shop:1")
    assert [key for key in "abc" if cache.get(key) is not None] == ["c"]
    cache.pop("c")
    cache.put("c", entry(b"3", clock=clock))
    cache.pop_tag("shop:2")
    assert cache.get("c") is not None


def test_clear_drops_everything() -> None:
    """``clear`` empties entries and bytes."""
    clock = FakeClock()
    cache = local(clock)
    cache.put("a", entry(b"1", clock=clock, tags=("t",)))
    cache.clear()
    assert (len(cache), cache.size_bytes, cache.get("a")) == (0, 0, None)


def test_an_entry_envelope_round_trips() -> None:
    """What L2 stores reads back as the same value, freshness and tags."""
    original = Entry(value=b"\x00payload", fresh_until=123.5, stale_until=130.5, tags=("a", "b:c"))
    assert Entry.decode(original.encode(), stale_s=7.0) == original
    untagged = Entry(value=b"", fresh_until=1.0, stale_until=1.0)
    assert Entry.decode(untagged.encode(), stale_s=0.0) == untagged
    with pytest.raises(ValueError, match="x1f"):
        Entry(value=b"", fresh_until=1.0, stale_until=1.0, tags=("a\x1fb",)).encode()


def test_a_watch_refuses_what_an_invalidation_since_may_have_made_stale() -> None:
    """Popping the key, one of the entry's tags, or everything spoils a watch; unrelated pops do not."""
    clock = FakeClock()
    cache = local(clock)
    tagged = entry(b"v", clock=clock, tags=("shop:1",))
    with cache.watch("k") as watch:
        cache.pop("other")
        cache.pop_tag("shop:2")
        assert cache.put("k", tagged, watch=watch)
    invalidations: list[Callable[[], None]] = [
        lambda: cache.pop("k"),
        lambda: cache.pop_tag("shop:1"),
        cache.clear,
    ]
    for invalidate in invalidations:
        cache.pop("k")
        with cache.watch("k") as watch:
            invalidate()
            assert not cache.put("k", tagged, watch=watch)
        assert cache.get("k") is None
