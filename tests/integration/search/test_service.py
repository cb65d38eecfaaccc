"""Searching a shop's listings and the works catalogue through the service, on the real engine."""

from __future__ import annotations

import uuid

import pytest

from folio.catalog.api import Condition
from folio.core.security import Principal, Role
from folio.search.api import (
    MAX_RESULT_WINDOW,
    DeepPagingError,
    QuerySyntaxError,
    SearchBackend,
    search_listings,
    search_works,
    suggest_titles,
)
from folio.search.indexes import listing_document, reindex, work_document
from tests.support.search import generated_listing, generated_work

pytestmark = pytest.mark.integration


def _principal(tenant_id: uuid.UUID) -> Principal:
    return Principal(tenant_id=tenant_id, role=Role.STAFF, user_id=uuid.uuid4(), via="token")


@pytest.fixture
async def shop(backend: SearchBackend) -> uuid.UUID:
    """A generated shop with five listings over four works, indexed."""
    tenant_id = uuid.uuid4()
    running = generated_work(
        "Running with Wolves", authors=("Mara Quill",), year=1995, subjects=("nature", "essays")
    )
    gardens = generated_work("Gardens of Stone", authors=("Ivo Brand",), year=2010, subjects=("history",))
    poems = generated_work("Collected Poems", authors=("Ada Penrose",), publisher="Harbour Books", year=1995)
    sea = generated_work("The Sea Remembers", authors=("Mara Quill",), year=2020, subjects=("nature",))
    listings = [
        generated_listing(running, price_cents=450, condition=Condition.GOOD),
        generated_listing(running, price_cents=1800, condition=Condition.NEW),
        generated_listing(gardens, price_cents=2500),
        generated_listing(poems, price_cents=700),
        generated_listing(sea, price_cents=9900, condition=Condition.LIKE_NEW),
    ]
    await reindex(
        backend.engine,
        backend.names.shop(tenant_id),
        [listing_document(item, tenant_id=tenant_id) for item in listings],
        names=backend.names,
    )
    return tenant_id


async def test_stemmed_search_with_facets_and_highlights(backend: SearchBackend, shop: uuid.UUID) -> None:
    """'run' finds 'Running' (Folio's stemming), counts facets over all hits and marks the match."""
    results = await search_listings(backend, principal=_principal(shop), query="run")
    titles = sorted(hit.title for hit in results.hits)
    assert titles == ["Running with Wolves", "Running with Wolves"]
    assert results.found == 2
    assert results.hits[0].highlights["title"] == "<mark>Running</mark> with Wolves"
    facets = {facet.field: {c.value: c.count for c in facet.counts} for facet in results.facets}
    assert facets["price_band"] == {"under-5": 1, "10-20": 1}
    assert facets["condition"] == {"good": 1, "new": 1}
    assert facets["subject"] == {"nature": 2, "essays": 2}
    assert facets["year"] == {"1995": 2}


async def test_filters_from_the_dsl(backend: SearchBackend, shop: uuid.UUID) -> None:
    """author:, year: and price: (major units) become engine filters."""
    principal = _principal(shop)
    by_author = await search_listings(backend, principal=principal, query="author:quill")
    assert {hit.title for hit in by_author.hits} == {"Running with Wolves", "The Sea Remembers"}
    cheap_1995 = await search_listings(backend, principal=principal, query="year:1995 price:<10")
    assert sorted(hit.price_cents or 0 for hit in cheap_1995.hits) == [450, 700]


async def test_syntax_error_names_the_position(backend: SearchBackend, shop: uuid.UUID) -> None:
    """An unclosed phrase is a query-syntax error carrying a position."""
    with pytest.raises(QuerySyntaxError) as caught:
        await search_listings(backend, principal=_principal(shop), query='gardens "of stone')
    assert caught.value.status == 400
    assert isinstance(caught.value.extra["position"], int)


async def test_a_shop_sees_only_its_own_listings(backend: SearchBackend, shop: uuid.UUID) -> None:
    """Another shop (no index yet) finds nothing, not the first shop's listings."""
    other = await search_listings(backend, principal=_principal(uuid.uuid4()), query="running")
    assert other.found == 0
    assert other.hits == []


async def test_deep_pages_are_refused_with_the_keyset_alternative(
    backend: SearchBackend, shop: uuid.UUID
) -> None:
    """Past the window a page is a 400 naming `after`; `after` walks every hit once, in rank_id order."""
    principal = _principal(shop)
    with pytest.raises(DeepPagingError) as caught:
        await search_listings(
            backend, principal=principal, query="", page=MAX_RESULT_WINDOW // 10 + 1, per_page=10
        )
    assert "after" in (caught.value.detail or "")
    seen: list[str] = []
    after: int | None = 0
    pages = 0
    while after is not None:
        page = await search_listings(backend, principal=principal, query="", per_page=2, after=after)
        seen.extend(hit.id for hit in page.hits)
        after = page.next_after
        pages += 1
    assert len(seen) == len(set(seen)) == 5
    assert pages == 3


async def test_suggest_completes_title_prefixes(backend: SearchBackend, shop: uuid.UUID) -> None:
    """A prefix of a title word suggests the titles, prefix marked; the shop's titles only."""
    suggestions = await suggest_titles(backend, prefix="gard", principal=_principal(shop))
    assert [s.title for s in suggestions] == ["Gardens of Stone"]
    assert suggestions[0].highlight.startswith("<mark>Gard</mark>")
    assert await suggest_titles(backend, prefix="gard", principal=_principal(uuid.uuid4())) == []


async def test_search_works_returns_work_ids(backend: SearchBackend) -> None:
    """The works search answers hits carrying work_id (what evaluation needs)."""
    works = [generated_work("Winter Orchard"), generated_work("Summer Orchard"), generated_work("Mill Race")]
    await reindex(
        backend.engine, backend.names.works(), [work_document(w) for w in works], names=backend.names
    )
    results = await search_works(backend, query="orchards")
    assert sorted(hit.work_id for hit in results.hits) == sorted(str(w.id) for w in works[:2])
    assert all(hit.kind == "work" for hit in results.hits)


async def test_a_shops_all_works_search_includes_its_private_works_only(backend: SearchBackend) -> None:
    """A shop finds published works and its own unpublished ones; another shop's private work stays hidden."""
    shop_a, shop_b = uuid.uuid4(), uuid.uuid4()
    published = generated_work("Lantern Orchard")
    mine = generated_work("Cellar Orchard").model_copy(update={"published": False, "owner_tenant_id": shop_a})
    theirs = generated_work("Attic Orchard").model_copy(
        update={"published": False, "owner_tenant_id": shop_b}
    )
    await reindex(
        backend.engine,
        backend.names.works(),
        [work_document(w) for w in (published, mine, theirs)],
        names=backend.names,
    )

    async def found(shop_id: uuid.UUID | None) -> list[str]:
        results = await search_works(backend, query="orchard", shop_id=shop_id, correct=False)
        return sorted(hit.title for hit in results.hits)

    assert await found(shop_a) == ["Cellar Orchard", "Lantern Orchard"]
    assert await found(shop_b) == ["Attic Orchard", "Lantern Orchard"]
    assert await found(None) == ["Lantern Orchard"]
