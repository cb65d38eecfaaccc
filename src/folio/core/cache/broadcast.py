"""The invalidation message every process's L1 listens for on the Redis channel.

Why JSON with the sender's id: the sender drops its own L1 copy before publishing, so
it skips its own message (nothing to do twice); the cache name routes the message to
the right L1 of the receiving process, which ignores caches it does not have.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["Invalidation"]


@dataclass(frozen=True)
class Invalidation:
    """Drop ``key``, or every entry tagged ``tag``, from cache ``cache``'s L1 (one of the two is set)."""

    sender: str
    cache: str
    key: str | None = None
    tag: str | None = None

    def encode(self) -> bytes:
        """The message as published."""
        body = {"s": self.sender, "c": self.cache, "k": self.key, "t": self.tag}
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> Invalidation:
        """Read a published message back; ``ValueError`` (or ``KeyError``) when it is not one."""
        body = json.loads(data)
        return cls(sender=body["s"], cache=body["c"], key=body["k"], tag=body["t"])
