"""The async Typesense client against the real server: round trips, alias swaps, error mapping, loops."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

import pytest

from folio.core.settings import Settings
from folio.search.api import SearchBackend, SearchEngine, SearchEngineError, SearchUnavailableError
from folio.search.engine import AiohttpTransport, EngineNotFoundError, EngineRequest, engine_for
from folio.search.indexes import collection_schema, ensure_index, work_document
from tests.conftest import free_port
from tests.support.search import generated_work

pytestmark = pytest.mark.integration

RequireService = Callable[[str], None]


async def test_documents_round_trip_through_an_alias(backend: SearchBackend) -> None:
    """Documents written through an alias are found by a search on it, and deletable."""
    engine, alias = backend.engine, backend.names.works()
    collection = await ensure_index(engine, alias, names=backend.names)
    assert await engine.get_alias(alias) == collection
    works = [generated_work("The Running Man"), generated_work("Quiet Gardens")]
    assert await engine.import_documents(alias, [work_document(w) for w in works]) == []
    body = await engine.search(alias, {"q": "run", "query_by": "title_stem"})
    assert [hit["document"]["id"] for hit in body["hits"]] == [str(works[0].id)]
    assert await engine.delete_document(alias, str(works[0].id)) is True
    assert await engine.delete_document(alias, str(works[0].id)) is False
    assert (await engine.get_collection(collection) or {})["num_documents"] == 1


async def test_import_reports_each_refused_document(backend: SearchBackend) -> None:
    """A bulk import answers which lines the engine refused and why, and keeps the rest."""
    engine, alias = backend.engine, backend.names.works()
    await ensure_index(engine, alias, names=backend.names)
    good = work_document(generated_work("Fine"))
    bad = {**work_document(generated_work("Broken")), "year": "not a year"}
    failures = await engine.import_documents(alias, [good, bad])
    assert len(failures) == 1
    assert "year" in failures[0]["error"]


async def test_missing_things_are_none_or_not_found(backend: SearchBackend) -> None:
    """Reads of absent aliases/collections answer None; a search on one raises the 404 error."""
    engine = backend.engine
    assert await engine.get_alias(backend.names.works()) is None
    assert await engine.get_collection(backend.names.prefix + "nothing") is None
    with pytest.raises(EngineNotFoundError):
        await engine.search(backend.names.prefix + "nothing", {"q": "*", "query_by": "title_stem"})


async def test_bad_request_maps_to_engine_error(backend: SearchBackend) -> None:
    """A request the server refuses (a duplicate collection) is a SearchEngineError with its message."""
    name = backend.names.versioned(backend.names.works())
    await backend.engine.create_collection(collection_schema(name))
    with pytest.raises(SearchEngineError) as caught:
        await backend.engine.create_collection(collection_schema(name))
    assert caught.value.extra["engine_status"] == 409
    assert "already exists" in (caught.value.detail or "")


async def test_unreachable_engine_is_search_unavailable() -> None:
    """A closed port gives the 503 problem search-unavailable, after the read retries."""
    async with SearchEngine(f"http://127.0.0.1:{free_port()}", "k", timeout_s=0.5) as engine:
        with pytest.raises(SearchUnavailableError) as caught:
            await engine.health()
    assert caught.value.status == 503
    assert caught.value.code == "search-unavailable"
    assert "cannot be reached" in (caught.value.detail or "")


def test_a_client_closed_on_its_loop_serves_the_next_loop(
    settings: Settings, require_service: RequireService
) -> None:
    """After aclose on one event loop the client opens a new session on the next (each test, each CLI run)."""
    require_service("search")
    engine = engine_for(settings)
    for _ in range(2):
        assert asyncio.run(_health_then_close(engine)) is True


def test_a_client_left_open_on_a_finished_loop_serves_the_next_loop(
    settings: Settings, require_service: RequireService
) -> None:
    """A loop closed under an open client does not stop the next loop, which gets a session of its own.

    The finished loop's pooled connection cannot be closed any more (its loop is gone):
    Python closes it when collected, warning; the test expects that warning.
    """
    require_service("search")
    engine = engine_for(settings)
    # Only the collection below may find the orphaned connection: an automatic one between
    # the two loops (allocation decides when) warned outside ``pytest.warns`` on a busy run.
    gc.disable()
    try:
        assert asyncio.run(engine.health()) is True
        assert asyncio.run(_health_then_close(engine)) is True
        with pytest.warns(ResourceWarning, match="unclosed"):
            gc.collect()
    finally:
        gc.enable()


def test_a_client_in_use_on_a_live_loop_refuses_another_loop(
    settings: Settings, require_service: RequireService
) -> None:
    """While the client's loop is still open another loop gets a clear RuntimeError, not a hang."""
    require_service("search")
    engine = engine_for(settings)
    owner = asyncio.new_event_loop()
    try:
        assert owner.run_until_complete(engine.health()) is True
        with pytest.raises(RuntimeError, match="another event loop"):
            asyncio.run(engine.health())
        owner.run_until_complete(engine.aclose())
    finally:
        owner.close()


async def _health_then_close(engine: SearchEngine) -> bool:
    try:
        return await engine.health()
    finally:
        await engine.aclose()


async def test_answers_come_uncompressed(settings: Settings, require_service: Callable[[str], None]) -> None:
    """The engine gzips answers for clients that accept it; Folio's does not (it costs CPU on both sides)."""
    require_service("search")
    search = settings.services.search
    transport = AiohttpTransport(search.url, timeout_s=5)
    key = {"X-TYPESENSE-API-KEY": search.api_key.get_secret_value()}
    try:
        answer = await transport.send(EngineRequest("GET", "/collections", headers=key))
        assert answer.status == 200
        session = transport._session  # the pool the engine client sends through
        assert session is not None
        async with session.get(search.url + "/collections", headers=key) as raw:
            assert raw.headers.get("Content-Encoding") is None
        async with session.get(search.url + "/collections", headers={**key, "Accept-Encoding": "gzip"}) as gz:
            assert gz.headers.get("Content-Encoding") == "gzip"  # what aiohttp asks for by default
    finally:
        await transport.aclose()
