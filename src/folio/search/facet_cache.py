"""Cached facet counts: the engine counts facets once per query and index, not once per page.

Counting facets is the costly part of a broad search (the engine walks every hit, not
just the page it returns), and the counts are the same on every page of a query and
for every shopper asking it. So the counts are kept in Folio's cache
(``folio.core.cache``, cache ``search.facets``: L1 in the process, L2 in Redis) and a
search whose counts are cached asks the engine for its page only.

Key contracts:

- **Keyed on everything but the position**: the index alias and every parameter the
  engine gets (query, fields, weights, the filter with the shop's tenant value, the
  facet fields) except ``page`` and ``per_page``. A shop's index is its own alias, so
  one shop's counts are never another's.
- **Dropped when the index changes**: ``SearchSync`` forgets every alias it wrote to
  (documents, a work's copies in listing documents, a rebuild) once its round is done,
  and synonym changes forget their shop's alias; other processes hear it through the
  cache's broadcast. Counts may trail a catalogue change by the sync's delay, as the
  hits themselves do; never by more than ``FACETS_TTL_S``.
- A miss asks the engine once, with facets, and that answer serves the caller;
  concurrent misses share the one load, and the callers that did not make it ask for
  their page without facets.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from folio.core.cache import Cache

__all__ = ["FACETS_CACHE", "FACETS_TTL_S", "FacetCache"]

FACETS_CACHE = "search.facets"
"""The cache's name (its metrics' ``cache`` label)."""

FACETS_TTL_S = 60.0
"""How long counts are kept without a change to their index."""

_POSITION = ("page", "per_page")
_FACET_PARAMS = ("facet_by", "max_facet_values")

Search = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
"""Sends one search's parameters to the engine and returns its answer."""


def _tag(alias: str) -> str:
    return f"search:facets:{alias}"


class FacetCache:
    """Facet counts per index alias and query over one named ``Cache``; see the module docstring."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    @staticmethod
    def key(alias: str, params: dict[str, Any]) -> str:
        """The counts' key: the alias and every parameter but the position."""
        what = {name: value for name, value in params.items() if name not in _POSITION}
        digest = hashlib.blake2b(json.dumps(what, sort_keys=True, default=str).encode(), digest_size=16)
        return f"{alias}:{digest.hexdigest()}"

    async def search(self, alias: str, params: dict[str, Any], run: Search) -> dict[str, Any]:
        """The engine's answer to ``params`` (which ask for facets), its counts from the cache if there."""
        answered: dict[str, Any] | None = None

        async def counts() -> bytes:
            nonlocal answered
            answered = await run(params)
            return json.dumps(answered.get("facet_counts", [])).encode()

        cached = await self.cache.get_or_load(
            self.key(alias, params), counts, ttl_s=FACETS_TTL_S, tags=(_tag(alias),)
        )
        if answered is not None:
            return answered
        page = await run({name: value for name, value in params.items() if name not in _FACET_PARAMS})
        return {**page, "facet_counts": json.loads(cached)}

    async def forget(self, aliases: set[str]) -> None:
        """Drop every count of the indexes ``aliases`` name, in every process (they changed)."""
        for alias in sorted(aliases):
            await self.cache.invalidate_tag(_tag(alias))
