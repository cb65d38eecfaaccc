"""Spelling correction on the real engine: `hamlt` shows Hamlet, says so, and can be turned off."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from folio.core.security import Principal, Role
from folio.search.api import SearchBackend, search_listings, search_works
from folio.search.engine import SearchEngineError
from folio.search.indexes import listing_document, reindex, work_document
from folio.search.spelling import build_vocabulary, vocabulary_for
from tests.support.search import generated_listing, generated_work

pytestmark = pytest.mark.integration


@pytest.fixture
async def catalogue(backend: SearchBackend) -> uuid.UUID:
    """Two generated Hamlets and two Hamlyn cookbooks, a shop listing them, indexed; vocabulary built."""
    works = [
        generated_work("Hamlet", authors=("William Shakespeare",)),
        generated_work("Hamlet", authors=("William Shakespeare",)),
        generated_work("Hamlyn Cookbook", authors=("Generated Cook",)),
        generated_work("Hamlyn Cookbook of Soups", authors=("Generated Cook",)),
    ]
    await reindex(backend.engine, backend.names.works(), map(work_document, works), names=backend.names)
    tenant_id = uuid.uuid4()
    listings = [listing_document(generated_listing(work), tenant_id=tenant_id) for work in works]
    await reindex(backend.engine, backend.names.shop(tenant_id), listings, names=backend.names)
    assert await vocabulary_for(backend.engine, backend.names.works(), fresh=True) is not None
    return tenant_id


async def test_a_misspelt_query_shows_the_corrected_results_and_says_so(
    backend: SearchBackend, catalogue: uuid.UUID
) -> None:
    """`hamlt` finds the Hamlets with highlights and `corrected_query` hamlet; the query stays as typed."""
    results = await search_works(backend, query="hamlt", facets=[])
    assert (results.query, results.corrected_query) == ("hamlt", "hamlet")
    assert [hit.title for hit in results.hits] == ["Hamlet", "Hamlet"]
    assert all(hit.highlights["title"] == "<mark>Hamlet</mark>" for hit in results.hits)

    principal = Principal(tenant_id=catalogue, role=Role.CUSTOMER, user_id=uuid.uuid4(), via="token")
    listed = await search_listings(backend, principal=principal, query="hamlt")
    assert listed.corrected_query == "hamlet"
    assert {hit.title for hit in listed.hits} == {"Hamlet"}


async def test_correction_can_be_turned_off_and_known_words_are_never_corrected(
    backend: SearchBackend, catalogue: uuid.UUID
) -> None:
    """`correct=False` searches `hamlt` as typed; `hamlyn` (a catalogue word) is searched as typed."""
    del catalogue
    as_typed = await search_works(backend, query="hamlt", facets=[], correct=False)
    assert as_typed.corrected_query is None
    assert not any(hit.highlights.get("title", "").startswith("<mark>Hamlet") for hit in as_typed.hits)
    known = await search_works(backend, query="hamlyn", facets=[])
    assert known.corrected_query is None
    assert {hit.title for hit in known.hits} == {"Hamlyn Cookbook", "Hamlyn Cookbook of Soups"}


async def test_the_vocabulary_is_built_in_the_background_and_kept(backend: SearchBackend) -> None:
    """The first ask starts a build and answers None (search as typed); later asks get the built one."""
    works = [generated_work("Lantern Keeper"), generated_work("Lantern Keeper")]
    await reindex(backend.engine, backend.names.works(), map(work_document, works), names=backend.names)
    assert await vocabulary_for(backend.engine, backend.names.works()) is None
    corrector = None
    for _ in range(200):
        await asyncio.sleep(0.05)
        corrector = await vocabulary_for(backend.engine, backend.names.works())
        if corrector is not None:
            break
    assert corrector is not None
    assert corrector.correct("lanturn keeper") == "lantern keeper"
    assert await vocabulary_for(backend.engine, backend.names.works()) is corrector


async def test_searches_during_a_build_do_not_ask_the_server_again(
    backend: SearchBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the first build runs, every ask answers None at once: no round trip per search."""
    works = [generated_work("Quiet Harbour"), generated_work("Quiet Harbour")]
    await reindex(backend.engine, backend.names.works(), map(work_document, works), names=backend.names)
    assert await vocabulary_for(backend.engine, backend.names.works()) is None
    asked: list[str] = []
    original = backend.engine.get_alias

    async def counting(alias: str) -> str | None:
        asked.append(alias)
        return await original(alias)

    monkeypatch.setattr(backend.engine, "get_alias", counting)
    for _ in range(20):
        await vocabulary_for(backend.engine, backend.names.works())
    assert asked == []


async def test_a_failed_build_says_why(backend: SearchBackend) -> None:
    """A vocabulary of a collection that does not exist is a SearchEngineError naming it and the cause."""
    missing = f"{backend.names.prefix}no_such_collection"
    with pytest.raises(SearchEngineError, match=f"{missing} failed: .*Not Found"):
        await build_vocabulary(backend.engine.url, backend.engine.admin_key, missing)
