"""Cached GraphQL responses, per shop, and forgotten when the shop writes.

Key contracts:

- Only queries are cached (never a mutation), and only answers without errors.
- The key is the shop, the caller's role, the query's hash, its variables and its
  operation name; a caller who is not staff (a customer, whose answers depend on who
  they are) also adds their own id, so no customer is ever served another's orders.
- A unit of work that commits outbox events for a shop forgets every cached response
  of that shop (``forget_changes``, a ``Database.on_committed`` listener); an event of
  no shop (a shared work changed) forgets every shop's. Other processes hear of it
  through the cache's broadcast, within its L1 staleness bound.
- The values live in ``folio.core.cache`` (L1 in the process, L2 in Redis), cache
  ``graphql.responses``, for ``graphql.response_cache_ttl_s``: the bound for writes
  that publish no event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from graphql import GraphQLError, OperationType, get_operation_ast, parse

from folio.core.cache import Cache
from folio.core.outbox import EventDraft
from folio.core.security import Principal

__all__ = ["RESPONSES_CACHE", "CacheOutcome", "ResponseCache"]

RESPONSES_CACHE = "graphql.responses"
"""The cache's name (its metrics' ``cache`` label)."""

_EVERY_SHOP = "graphql:all"


class CacheOutcome(StrEnum):
    """What the cache did for one request (the ``X-Folio-Cache`` response header)."""

    HIT = "hit"
    MISS = "miss"
    BYPASS = "bypass"


class _NotCacheableError(Exception):
    """Carries an answer with errors out of the cache's loader, so it is returned but not kept."""

    def __init__(self, body: bytes) -> None:
        super().__init__("answer with errors")
        self.body = body


def _shop_tag(tenant_hex: str) -> str:
    return f"graphql:shop:{tenant_hex}"


def is_query(document: str, operation_name: str | None, *, max_tokens: int) -> bool:
    """Whether ``document``'s operation is a query; False when it does not parse (execution reports why)."""
    try:
        operation = get_operation_ast(parse(document, max_tokens=max_tokens), operation_name)
    except GraphQLError:
        return False
    return operation is not None and operation.operation == OperationType.QUERY


class ResponseCache:
    """GraphQL responses over one named ``Cache``; see the module docstring."""

    def __init__(self, cache: Cache, *, ttl_s: float, max_tokens: int) -> None:
        self.cache = cache
        self._ttl_s = ttl_s
        self._max_tokens = max_tokens

    def key(
        self,
        principal: Principal,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
    ) -> str:
        """The cache key of this caller's answer to this operation."""
        who = (
            principal.role.value if principal.is_staff else f"{principal.role.value}:{principal.actor_id.hex}"
        )
        request = json.dumps([query, variables or {}, operation_name], sort_keys=True, separators=(",", ":"))
        return f"{principal.tenant_id.hex}:{who}:{hashlib.sha256(request.encode()).hexdigest()}"

    async def answer(
        self,
        principal: Principal,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        run: Callable[[], Awaitable[tuple[bytes, bool]]],
    ) -> tuple[bytes, CacheOutcome]:
        """The encoded answer, cached when it may be; ``run()`` returns it and whether it had errors."""
        if self._ttl_s <= 0 or not is_query(query, operation_name, max_tokens=self._max_tokens):
            body, _ = await run()
            return body, CacheOutcome.BYPASS
        ran = False

        async def load() -> bytes:
            nonlocal ran
            ran = True
            body, failed = await run()
            if failed:
                raise _NotCacheableError(body)
            return body

        tags = (_shop_tag(principal.tenant_id.hex), _EVERY_SHOP)
        try:
            body = await self.cache.get_or_load(
                self.key(principal, query, variables, operation_name), load, ttl_s=self._ttl_s, tags=tags
            )
        except _NotCacheableError as uncached:
            return uncached.body, CacheOutcome.BYPASS
        return body, CacheOutcome.MISS if ran else CacheOutcome.HIT

    async def forget_changes(self, notes: Sequence[Any]) -> None:
        """Forget the responses of each shop whose outbox events are among ``notes`` (a committed unit's)."""
        tags: set[str] = set()
        for note in notes:
            if isinstance(note, EventDraft):
                tags.add(_EVERY_SHOP if note.tenant_id is None else _shop_tag(note.tenant_id.hex))
        if _EVERY_SHOP in tags:
            tags = {_EVERY_SHOP}
        for tag in sorted(tags):
            await self.cache.invalidate_tag(tag)
