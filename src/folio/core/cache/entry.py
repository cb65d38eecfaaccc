r"""One cached value with its freshness, and the bytes it travels as between processes.

Why an envelope: L1 and L2 hold the same thing, the caller's encoded bytes plus when
they stop being fresh and which tags they carry. Putting ``fresh_until`` and the tags
inside the value L2 stores means one ``GET`` gives another process everything it needs
to fill its L1 (serve stale or not, drop on a tag broadcast) without a second round
trip. Times are wall-clock seconds (``time.time``) because they cross processes.

``load_s`` is how long the origin took to produce the value: probabilistic early
refresh (``hierarchy``) starts refreshing sooner for values that are slow to load.

Layout: ``!ddH`` (fresh_until, load_s, length of the tag block), the tags joined by
``\x1f`` (UTF-8), then the payload. Tags may not contain ``\x1f``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["Entry"]

_HEADER = struct.Struct("!ddH")
_TAG_SEPARATOR = "\x1f"


@dataclass(frozen=True, slots=True)
class Entry:
    """A cached value: fresh until ``fresh_until``, then servable stale until ``stale_until``."""

    value: bytes
    fresh_until: float
    stale_until: float
    tags: tuple[str, ...] = ()
    load_s: float = 0.0

    def is_fresh(self, now: float) -> bool:
        """Whether the value may be served without a refresh."""
        return now < self.fresh_until

    def is_usable(self, now: float) -> bool:
        """Whether the value may be served at all (fresh, or stale within the stale window)."""
        return now < self.stale_until

    def encode(self) -> bytes:
        """The envelope L2 stores (see the module docstring); ``stale_until`` is L2's expiry."""
        for tag in self.tags:
            if _TAG_SEPARATOR in tag:
                raise ValueError(f"a cache tag may not contain \\x1f: {tag!r}")
        tag_block = _TAG_SEPARATOR.join(self.tags).encode()
        return _HEADER.pack(self.fresh_until, self.load_s, len(tag_block)) + tag_block + self.value

    @classmethod
    def decode(cls, data: bytes, *, stale_s: float) -> Entry:
        """Read an envelope back; ``stale_s`` is the reading cache's stale window."""
        fresh_until, load_s, tag_length = _HEADER.unpack_from(data)
        start = _HEADER.size
        tag_block = data[start : start + tag_length].decode()
        tags = tuple(tag_block.split(_TAG_SEPARATOR)) if tag_block else ()
        return cls(
            value=data[start + tag_length :],
            fresh_until=fresh_until,
            stale_until=fresh_until + stale_s,
            tags=tags,
            load_s=load_s,
        )
