"""The outbox sync against the real catalogue and engine: changes reach the index, outages lose nothing.

The outbox is shared by the whole database, so a sync here may also apply changes other
tests left pending; those land in this test's private namespace and are dropped with it.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from redis.asyncio import Redis

from folio.catalog import api as catalog
from folio.catalog.api import Condition
from folio.core.cache import Caches
from folio.core.db import Database
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.core.telemetry import tracer
from folio.search.api import (
    FACETS_CACHE,
    FacetCache,
    IndexNames,
    SearchBackend,
    SearchEngine,
    SearchSync,
    search_listings,
)
from folio.search.engine import EngineRequest, MockTransport
from folio.search.indexes import ensure_index, listing_document
from tests.conftest import free_port
from tests.support.identity import Session, register_and_login
from tests.support.search import generated_listing, generated_work
from tests.support.tracing import parent_id, recording_spans

pytestmark = pytest.mark.integration


async def _create(client: httpx.AsyncClient, owner: Session, title: str) -> tuple[str, str]:
    work = await client.post(
        "/api/v1/catalog/works", json={"title": title, "authors": ["Generated Author"]}, headers=owner.headers
    )
    assert work.status_code == 201, work.text
    listing = await client.post(
        "/api/v1/catalog/listings",
        json={"work_id": work.json()["id"], "price_cents": 1200, "currency": "EUR", "stock": 2},
        headers=owner.headers,
    )
    assert listing.status_code == 201, listing.text
    return str(work.json()["id"]), str(listing.json()["id"])


async def _drain(sync: SearchSync, rounds: int = 50) -> None:
    for _ in range(rounds):
        report = await sync.run_once()
        assert not report.engine_down
        if report.claimed == 0:
            return
    raise AssertionError("the outbox did not drain")


async def test_changes_wait_out_an_outage_then_reach_the_index(
    api_client: httpx.AsyncClient, pg_database: Database, backend: SearchBackend
) -> None:
    """With the engine down nothing is claimed or lost; once it is back the work and listing are indexed."""
    owner = await register_and_login(api_client)
    work_id, listing_id = await _create(api_client, owner, "Saltmarsh Diaries")
    pending_before = await catalog.pending_change_count(pg_database, consumer=SearchSync.CONSUMER)

    down = SearchBackend(SearchEngine(f"http://127.0.0.1:{free_port()}", "k", timeout_s=0.5), backend.names)
    try:
        sync_down = SearchSync(pg_database, down, min_backoff_s=0.5)
        report = await sync_down.run_once()
        assert report.engine_down
        assert report.claimed == 0
        assert sync_down.backoff_s == 0.5
        assert (await sync_down.run_once()).engine_down
        assert sync_down.backoff_s == 1.0
    finally:
        await down.aclose()
    assert await catalog.pending_change_count(pg_database, consumer=SearchSync.CONSUMER) >= pending_before

    await _drain(SearchSync(pg_database, backend))
    engine, names = backend.engine, backend.names
    work = await engine.get_document(names.works(), work_id)
    assert work is not None
    assert work["title"] == "Saltmarsh Diaries"
    listing = await engine.get_document(names.shop(owner.tenant_id), listing_id)
    assert listing is not None
    assert listing["tenant_id"] == str(owner.tenant_id)
    assert listing["price_band"] == "10-20"
    assert listing["title_stem"] == "saltmarsh diari"

    deleted = await api_client.delete(f"/api/v1/catalog/listings/{listing_id}", headers=owner.headers)
    assert deleted.status_code == 204, deleted.text
    await _drain(SearchSync(pg_database, backend))
    assert await engine.get_document(names.shop(owner.tenant_id), listing_id) is None


async def test_the_sync_continues_the_trace_of_the_write_that_caused_it(
    api_client: httpx.AsyncClient, pg_database: Database, backend: SearchBackend
) -> None:
    """A work created under a request's span: the sync's span for its change is in that trace, below it."""
    owner = await register_and_login(api_client)
    principal = Principal(tenant_id=owner.tenant_id, role=Role.OWNER, user_id=owner.user_id, via="token")
    with recording_spans() as exporter:
        assert isinstance(exporter, InMemorySpanExporter)
        with tracer().start_as_current_span("POST /api/v1/catalog/works") as request:
            work = await catalog.create_work(
                pg_database,
                principal=principal,
                data=catalog.WorkCreate(title="Generated Traced Work", authors=["Generated Author"]),
            )
        await _drain(SearchSync(pg_database, backend))
    written = request.get_span_context()
    # "process" when the change was its batch's first traced one, else "receive": once, either way.
    consumed = [
        span
        for span in exporter.get_finished_spans()
        if span.name in {"search process", "search receive"} and span.context.trace_id == written.trace_id
    ]
    assert [parent_id(span) for span in consumed] == [written.span_id]
    assert await backend.engine.get_document(backend.names.works(), str(work.id)) is not None


def _failing_writes() -> MockTransport:
    """An engine that is healthy but answers 503 to everything else (it fails mid-batch)."""

    def handler(request: EngineRequest) -> tuple[int, object]:
        if request.path == "/health":
            return 200, {"ok": True}
        body: dict[str, Any] = {"message": "Not Ready or Lagging"}
        return 503, body

    return MockTransport(handler)


async def test_a_batch_that_fails_midway_is_marked_failed_and_retried(
    api_client: httpx.AsyncClient, pg_database: Database, backend: SearchBackend
) -> None:
    """Writes failing after the claim mark the changes failed (attempts + 1), back off, and are retried."""
    owner = await register_and_login(api_client)
    _, listing_id = await _create(api_client, owner, "Fenland Ledger")
    flaky = SearchBackend(
        SearchEngine("http://engine.test", "k", transport=_failing_writes(), read_attempts=1),
        IndexNames(backend.names.prefix),
    )
    try:
        sync = SearchSync(pg_database, flaky, min_backoff_s=0.25)
        report = await sync.run_once()
    finally:
        await flaky.aclose()
    assert report.claimed > 0
    assert report.failed == report.claimed
    assert report.synced == 0
    assert sync.backoff_s == 0.25
    assert "Not Ready" in report.errors[0]
    retried = await catalog.claim_changes(pg_database, consumer=SearchSync.CONSUMER, limit=1000)
    assert any(
        change.entity_id is not None and str(change.entity_id) == listing_id and change.attempts == 1
        for change in retried
    )

    await _drain(SearchSync(pg_database, backend))
    assert await backend.engine.get_document(backend.names.shop(owner.tenant_id), listing_id) is not None


async def test_a_work_edit_reaches_every_shops_listing_copies(
    api_client: httpx.AsyncClient, pg_database: Database, backend: SearchBackend
) -> None:
    """Listing documents copy their work's fields: an owner's edit of the work rewrites them in every shop."""
    owner = await register_and_login(api_client)
    work_id, listing_id = await _create(api_client, owner, "Tidewater Almanac")
    # Another shop may list only a published work (a shop's own works are private until then).
    await catalog.set_work_published(pg_database, work_id=uuid.UUID(work_id), published=True, operator="test")
    other = await register_and_login(api_client)
    other_listing = await api_client.post(
        "/api/v1/catalog/listings",
        json={"work_id": work_id, "price_cents": 450, "currency": "GBP", "stock": 1, "condition": "good"},
        headers=other.headers,
    )
    assert other_listing.status_code == 201, other_listing.text
    await _drain(SearchSync(pg_database, backend))
    # Only the owning shop may edit a work, and only while it is unpublished.
    await catalog.set_work_published(
        pg_database, work_id=uuid.UUID(work_id), published=False, operator="test"
    )

    edited = await api_client.patch(
        f"/api/v1/catalog/works/{work_id}", json={"title": "Tidewater Almanack"}, headers=owner.headers
    )
    assert edited.status_code == 200, edited.text
    await _drain(SearchSync(pg_database, backend))

    engine, names = backend.engine, backend.names
    mine = await engine.get_document(names.shop(owner.tenant_id), listing_id)
    theirs = await engine.get_document(names.shop(other.tenant_id), str(other_listing.json()["id"]))
    assert mine is not None
    assert theirs is not None
    assert mine["title"] == theirs["title"] == "Tidewater Almanack"
    assert mine["title_stem"] == "tidewat almanack"
    # The listing's own fields are untouched by the work's edit.
    assert (mine["price_cents"], theirs["price_cents"], theirs["currency"]) == (1200, 450, "GBP")


async def test_copies_of_hundreds_of_changed_works_are_rewritten(
    pg_database: Database, backend: SearchBackend
) -> None:
    """A bulk change of 300 works rewrites every listing copy (id lookups under the engine's URL limit)."""
    tenant_id = uuid.uuid4()
    alias = backend.names.shop(tenant_id)
    await ensure_index(backend.engine, alias, names=backend.names)
    works = [generated_work(f"Generated Ledger {n}") for n in range(300)]
    listings = [listing_document(generated_listing(work), tenant_id=tenant_id) for work in works]
    assert await backend.engine.import_documents(alias, listings) == []
    renamed = {work.id: work.model_copy(update={"title": f"{work.title} Revised"}) for work in works}

    await SearchSync(pg_database, backend)._refresh_listing_copies(renamed)

    for document in listings:
        stored = await backend.engine.get_document(alias, str(document["id"]))
        assert stored is not None
        assert stored["title"] == f"{document['title']} Revised"


async def test_a_synced_change_refreshes_the_shops_cached_facet_counts(
    api_client: httpx.AsyncClient, pg_database: Database, backend: SearchBackend, settings: Settings
) -> None:
    """Counts are served from the cache while pages stay live; the sync's next write drops them."""
    caches = Caches(
        settings.cache, redis=Redis.from_url(settings.cache_url), namespace=f"test-{uuid.uuid4().hex[:8]}"
    )
    cached = SearchBackend(backend.engine, backend.names, facets=FacetCache(caches.named(FACETS_CACHE)))
    try:
        owner = await register_and_login(api_client)
        principal = Principal(tenant_id=owner.tenant_id, role=Role.OWNER, user_id=owner.user_id, via="token")
        await _create(api_client, owner, "Generated Facet One")
        await _drain(SearchSync(pg_database, cached))

        async def conditions() -> tuple[int, dict[str, int]]:
            results = await search_listings(cached, principal=principal, query="*", facets=["condition"])
            (facet,) = results.facets
            return results.found, {count.value: count.count for count in facet.counts}

        assert await conditions() == (1, {"new": 1})
        # A document put in the index behind the sync: the page sees it, the cached counts do not.
        work = generated_work("Generated Facet Two")
        behind = listing_document(generated_listing(work, condition=Condition.NEW), tenant_id=owner.tenant_id)
        assert await backend.engine.import_documents(backend.names.shop(owner.tenant_id), [behind]) == []
        assert await conditions() == (2, {"new": 1})

        await _create(api_client, owner, "Generated Facet Three")
        await _drain(SearchSync(pg_database, cached))
        assert await conditions() == (3, {"new": 3})
    finally:
        await caches.aclose()
