"""``FacetCache`` in one process (L1 only): which parameters reach the engine, and when.

The engine is a recording function, so "counted once" is the list of calls it saw.
The real engine and Redis are in ``tests/integration/search/test_sync.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from folio.core.cache import Caches
from folio.core.settings.cache import CacheSettings
from folio.search.facet_cache import FACETS_CACHE, FacetCache

pytestmark = pytest.mark.unit

ALIAS = "folio_shop_x"
QUERY = {
    "q": "sea",
    "query_by": "title",
    "filter_by": "tenant_id:=x",
    "facet_by": "condition",
    "max_facet_values": 10,
}


class Engine:
    """Answers every search with a page and, when asked for facets, counts; records what it got."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.counts = 3

    async def __call__(self, params: dict[str, Any]) -> dict[str, Any]:
        """One search."""
        self.calls.append(params)
        await asyncio.sleep(0)
        answer: dict[str, Any] = {"found": self.counts, "hits": [{"page": params.get("page")}]}
        if "facet_by" in params:
            answer["facet_counts"] = [
                {"field_name": "condition", "counts": [{"value": "new", "count": self.counts}]}
            ]
        return answer


@pytest.fixture
async def facets() -> AsyncIterator[FacetCache]:
    """A facet cache on an in-process cache (no Redis)."""
    caches = Caches(CacheSettings(backend="memory"))
    yield FacetCache(caches.named(FACETS_CACHE))
    await caches.aclose()


async def test_counts_are_asked_once_per_query_whatever_the_page(facets: FacetCache) -> None:
    """Page 1 asks with facets; page 2 of the same query asks without and gets the kept counts."""
    engine = Engine()
    first = await facets.search(ALIAS, {**QUERY, "page": 1, "per_page": 20}, engine)
    second = await facets.search(ALIAS, {**QUERY, "page": 2, "per_page": 10}, engine)
    assert first["facet_counts"] == second["facet_counts"]
    assert second["hits"] == [{"page": 2}]
    assert ["facet_by" in call for call in engine.calls] == [True, False]
    assert "max_facet_values" not in engine.calls[1]


async def test_another_query_or_index_counts_afresh(facets: FacetCache) -> None:
    """The key holds the query, the filter and the alias."""
    engine = Engine()
    await facets.search(ALIAS, {**QUERY, "page": 1}, engine)
    await facets.search(ALIAS, {**QUERY, "q": "sky", "page": 1}, engine)
    await facets.search(ALIAS, {**QUERY, "filter_by": "tenant_id:=y", "page": 1}, engine)
    await facets.search("folio_shop_y", {**QUERY, "page": 1}, engine)
    assert all("facet_by" in call for call in engine.calls)
    assert len(engine.calls) == 4


async def test_forgetting_an_index_counts_it_again(facets: FacetCache) -> None:
    """After ``forget`` the next search asks for facets and sees the index's new counts."""
    engine = Engine()
    await facets.search(ALIAS, {**QUERY, "page": 1}, engine)
    engine.counts = 4
    stale = await facets.search(ALIAS, {**QUERY, "page": 1}, engine)
    await facets.forget({ALIAS, "folio_works"})
    fresh = await facets.search(ALIAS, {**QUERY, "page": 1}, engine)
    assert [c["counts"][0]["count"] for c in (stale["facet_counts"][0], fresh["facet_counts"][0])] == [3, 4]


async def test_concurrent_misses_share_one_count(facets: FacetCache) -> None:
    """Twenty searches at once: one asks for facets, the others for their page only, all get counts."""
    engine = Engine()
    answers = await asyncio.gather(
        *(facets.search(ALIAS, {**QUERY, "page": n}, engine) for n in range(1, 21))
    )
    assert sum("facet_by" in call for call in engine.calls) == 1
    assert all(answer["facet_counts"][0]["counts"][0]["count"] == 3 for answer in answers)
    assert sorted(answer["hits"][0]["page"] for answer in answers) == list(range(1, 21))
