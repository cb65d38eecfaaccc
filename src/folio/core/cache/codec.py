"""Typed values on top of the byte cache: ``Cached[T]`` encodes with a pydantic ``TypeAdapter``.

Why the cache stores bytes and the codec sits on top: L1 and L2 then hold the same
encoded form, L1's byte bound is exact, and a value read from another process's fill
decodes exactly like one loaded here. JSON (pydantic's, so models, dataclasses,
datetimes and UUIDs round-trip) keeps the values readable in ``redis-cli``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from pydantic import TypeAdapter

from folio.core.cache.hierarchy import Cache

__all__ = ["Cached"]

T = TypeVar("T")


class Cached(Generic[T]):
    """``cache`` holding values of type ``T``: ``Cached(cache, PrincipalRead)``."""

    def __init__(self, cache: Cache, kind: type[T]) -> None:
        self.cache = cache
        self._adapter: TypeAdapter[T] = TypeAdapter(kind)

    async def get_or_load(
        self, key: str, loader: Callable[[], Awaitable[T]], *, ttl_s: float, tags: Sequence[str] = ()
    ) -> T:
        """The value of ``key`` decoded (see ``Cache.get_or_load``); ``loader`` returns a ``T``."""

        async def load_encoded() -> bytes:
            return self._adapter.dump_json(await loader())

        data = await self.cache.get_or_load(key, load_encoded, ttl_s=ttl_s, tags=tags)
        return self._adapter.validate_json(data)

    async def write_through(
        self,
        key: str,
        value: T,
        write: Callable[[T], Awaitable[object]],
        *,
        ttl_s: float,
        tags: Sequence[str] = (),
    ) -> None:
        """``write(value)`` to the origin, then cache ``value`` encoded (see ``Cache.write_through``)."""
        await self.cache.write_through(
            key, self._adapter.dump_json(value), lambda: write(value), ttl_s=ttl_s, tags=tags
        )

    async def invalidate(self, key: str) -> None:
        """``Cache.invalidate``."""
        await self.cache.invalidate(key)

    async def invalidate_tag(self, tag: str) -> None:
        """``Cache.invalidate_tag``."""
        await self.cache.invalidate_tag(tag)
