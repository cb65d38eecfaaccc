"""Keeping the indexes in step with the catalogue: the outbox sync and full reindexes.

The catalogue publishes one event per change on the transactional outbox (topic
``catalog``), in the same transaction as the change (``folio.catalog.outbox``).
``SearchSync`` is the outbox consumer named ``search`` (subscribed by migration
``0011_outbox``): it claims its pending changes, reads the *current* state of each
entity and applies it: upsert when it exists, delete when it does not (or when the
change says ``delete``). Applying is idempotent, so delivery being at least once is
harmless.

Failure story (no lost updates while the engine is down):

- Before claiming, the sync asks the engine for ``/health``. While the engine is
  unreachable it claims nothing and backs off exponentially (``min_backoff_s`` doubling
  to ``max_backoff_s``): a long outage does not burn the changes' attempts, they simply
  wait in the outbox.
- A batch that fails mid-way (the engine went down, or refused a document) marks each
  unapplied change failed with the error (``attempts + 1``; after ``RETRY.max_attempts``
  the outbox sets the change aside for this consumer, with its last error, for an
  operator) and backs off the same way; the next round retries them. The per-event
  backoff of ``RETRY`` is 0 because the round's backoff already spaces the retries.
- ``op = reindex`` (after a bulk import) rebuilds the works collection with
  ``reindex_works``.

A work's change re-indexes the work document and rewrites the copy of the work's
fields that each listing document of it holds, in every shop's index: the sync finds
those listings in the engine (``work_id`` filter, one search per shop alias), because
the catalogue cannot list another shop's listings outside that shop's tenant scope.
A bulk import (``op = reindex``) rebuilds the works index and then every shop index
that has listings.

Observed (served by ``folio search sync`` on ``services.search.sync_metrics_port``): each
claimed batch runs in a ``search process`` span (a consumer span below the first traced
change's writer, with a ``search receive`` span in each other writer's trace; an error when a
change failed) and counts its changes, ``folio_search_sync_changes_total{outcome="synced|failed"}``;
``folio_search_sync_batch_seconds`` times it, claim excluded, with the trace id as exemplar;
``folio_search_sync_engine_down_total`` counts the rounds that found the engine down.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import structlog
from prometheus_client import Counter, Histogram

from folio.catalog import api as catalog
from folio.core.db import Database
from folio.core.errors import FolioError
from folio.core.exemplars import observe
from folio.core.outbox import RetryPolicy
from folio.core.telemetry import mark_error, traced_batch
from folio.identity import api as identity
from folio.search.engine import SearchEngineError, SearchUnavailableError
from folio.search.indexes import (
    ReindexReport,
    ensure_index,
    listing_document,
    reindex,
    work_document,
    work_fields,
)
from folio.search.service import SearchBackend, forget_facets, shop_synonyms

__all__ = ["SearchSync", "SyncReport", "reindex_shop", "reindex_works"]

log = structlog.get_logger(__name__)

_COPIES_PAGE = 250
"""Listing documents fetched per engine request when rewriting a work's copies (the engine's maximum)."""

_COPIES_IDS_PER_QUERY = 40
"""Work ids per copies lookup: 40 URL-encoded ids (about 44 characters each) stay well under 4,000."""

# Module-level for the reason the cache's are (folio.core.cache.metrics): one family per process.
CHANGES = Counter(
    "folio_search_sync_changes_total",
    "Changes of the catalogue the search sync handled, by outcome: synced, failed (retried until poisoned).",
    ["outcome"],
)
BATCH_SECONDS = Histogram(
    "folio_search_sync_batch_seconds",
    "Time the search sync took to apply one claimed batch and record its outcome.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
ENGINE_DOWN = Counter(
    "folio_search_sync_engine_down_total", "Rounds of the search sync that found the engine unreachable."
)


async def _work_documents(db: Database, batch_size: int) -> AsyncIterator[dict[str, Any]]:
    async for batch in catalog.iter_works(db, batch_size=batch_size):
        for work in batch:
            yield work_document(work)


async def _listing_documents(
    db: Database, tenant_id: uuid.UUID, batch_size: int
) -> AsyncIterator[dict[str, Any]]:
    async for batch in catalog.iter_listings(db, tenant_id=tenant_id, batch_size=batch_size):
        for item in batch:
            yield listing_document(item, tenant_id=tenant_id)


async def reindex_works(db: Database, backend: SearchBackend, *, batch_size: int = 500) -> ReindexReport:
    """Rebuild the works collection from the catalogue (zero downtime: see ``indexes.reindex``)."""
    return await reindex(
        backend.engine,
        backend.names.works(),
        _work_documents(db, batch_size),
        names=backend.names,
        batch_size=batch_size,
    )


async def reindex_shop(
    db: Database, backend: SearchBackend, *, tenant_id: uuid.UUID, batch_size: int = 500
) -> ReindexReport:
    """Rebuild one shop's collection from its listings, with its synonym sets (zero downtime)."""
    synonyms = await shop_synonyms(db, tenant_id=tenant_id)
    return await reindex(
        backend.engine,
        backend.names.shop(tenant_id),
        _listing_documents(db, tenant_id, batch_size),
        names=backend.names,
        synonyms=synonyms,
        batch_size=batch_size,
    )


@dataclass
class SyncReport:
    """What one round of the sync did."""

    claimed: int = 0
    synced: int = 0
    failed: int = 0
    reindexed: bool = False
    engine_down: bool = False
    errors: list[str] = field(default_factory=list)


class SearchSync:
    """Applies the catalogue's outbox to the search indexes; one instance per worker process."""

    CONSUMER: ClassVar[str] = "search"
    """The outbox consumer name: one process at a time may consume under it."""

    RETRY: ClassVar[RetryPolicy] = RetryPolicy(max_attempts=5, first_backoff_s=0.0)
    """Five failed attempts poison a change; no per-change wait (``run_forever`` backs off per round)."""

    def __init__(
        self,
        db: Database,
        backend: SearchBackend,
        *,
        batch_size: int = 200,
        min_backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
    ) -> None:
        self.db = db
        self.backend = backend
        self.batch_size = batch_size
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self._backoff_s = 0.0
        self._touched: set[str] = set()  # the aliases this round wrote to

    @property
    def backoff_s(self) -> float:
        """How long the loop waits before the next round (0 while all is well)."""
        return self._backoff_s

    def _failed_round(self) -> None:
        self._backoff_s = min(max(self._backoff_s * 2, self.min_backoff_s), self.max_backoff_s)

    async def pending_count(self) -> int:
        """How many catalogue changes wait for this consumer (set-aside ones excluded)."""
        return await catalog.pending_change_count(self.db, consumer=self.CONSUMER)

    async def run_once(self) -> SyncReport:
        """Claim one batch of changes and apply it; never raises for engine failures (see the module doc)."""
        report = SyncReport()
        try:
            await self.backend.engine.health()
        except SearchUnavailableError as exc:
            report.engine_down = True
            ENGINE_DOWN.inc()
            report.errors.append(exc.detail or exc.title)
            self._failed_round()
            log.warning("search.sync_engine_down", error=exc.detail, backoff_s=self._backoff_s)
            return report
        changes = await catalog.claim_changes(self.db, consumer=self.CONSUMER, limit=self.batch_size)
        report.claimed = len(changes)
        if not changes:
            self._backoff_s = 0.0
            return report
        started = time.perf_counter()
        # The batch continues the first traced change's writer (a request, an import), and
        # each other writer's trace gets a receive span: as the Kafka stages do.
        with traced_batch(
            f"{self.CONSUMER} process",
            [change.traceparent for change in changes],
            receive_name=f"{self.CONSUMER} receive",
            attributes={"messaging.system": "outbox", "messaging.destination.name": "catalog"},
        ) as span:
            span.set_attribute("messaging.batch.message_count", len(changes))
            try:
                await self._sync_batch(changes, report)
            finally:
                observe(BATCH_SECONDS, time.perf_counter() - started)
            if report.failed:
                mark_error(span, f"{report.failed} of {report.claimed} change(s) failed")
        CHANGES.labels("synced").inc(report.synced)
        CHANGES.labels("failed").inc(report.failed)
        log.info("search.synced", claimed=report.claimed, synced=report.synced, failed=report.failed)
        return report

    async def _sync_batch(self, changes: list[catalog.CatalogChangeRead], report: SyncReport) -> None:
        """Apply the claimed ``changes``, then record which synced and which failed (``report`` says so)."""
        done: list[int] = []
        failed: dict[int, str] = {}
        self._touched = set()
        try:
            await self._apply(changes, done, failed, report)
        except (SearchUnavailableError, SearchEngineError) as exc:
            message = exc.detail or exc.title
            report.errors.append(message)
            for change in changes:
                if change.id not in done and change.id not in failed:
                    failed[change.id] = message
        finally:
            # Even after a failure: the writes made before it are in the indexes.
            await forget_facets(self.backend, *self._touched)
        await catalog.mark_changes_synced(self.db, done, consumer=self.CONSUMER)
        for change_id, error in failed.items():
            await catalog.mark_change_failed(
                self.db, change_id, error, consumer=self.CONSUMER, retry=self.RETRY
            )
        report.synced = len(done)
        report.failed = len(failed)
        if failed:
            self._failed_round()
        else:
            self._backoff_s = 0.0

    async def _apply(
        self,
        changes: list[catalog.CatalogChangeRead],
        done: list[int],
        failed: dict[int, str],
        report: SyncReport,
    ) -> None:
        engine = self.backend.engine
        names = self.backend.names
        reindexes = [c for c in changes if c.op == "reindex"]
        if reindexes:
            await reindex_works(self.db, self.backend)
            self._touched.add(names.works())
            shops = [tenant.id for tenant in await identity.list_tenants(self.db)]
            for tenant_id in await catalog.list_tenants_with_listings(self.db, candidates=shops):
                await reindex_shop(self.db, self.backend, tenant_id=tenant_id)
                self._touched.add(names.shop(tenant_id))
            report.reindexed = True
            done.extend(c.id for c in reindexes)
        works = [c for c in changes if c.entity == "work" and c.op != "reindex" and c.entity_id is not None]
        if works:
            alias = names.works()
            await ensure_index(engine, alias, names=names)
            current = {
                w.id: w for w in await catalog.get_works(self.db, [c.entity_id for c in works if c.entity_id])
            }
            await self._write(alias, works, {i: work_document(w) for i, w in current.items()}, done, failed)
            await self._refresh_listing_copies(current)
        by_shop: dict[uuid.UUID, list[catalog.CatalogChangeRead]] = defaultdict(list)
        for change in changes:
            if change.entity == "listing" and change.entity_id is not None and change.tenant_id is not None:
                by_shop[change.tenant_id].append(change)
        for tenant_id, listing_changes in by_shop.items():
            alias = names.shop(tenant_id)
            await ensure_index(engine, alias, names=names)
            items = await catalog.get_listings_for_search(
                self.db, tenant_id=tenant_id, ids=[c.entity_id for c in listing_changes if c.entity_id]
            )
            documents = {item.listing.id: listing_document(item, tenant_id=tenant_id) for item in items}
            await self._write(alias, listing_changes, documents, done, failed)
        for change in changes:
            if change.id not in done and change.id not in failed:
                # Nothing Folio knows how to apply (an entity or op from a newer version).
                failed[change.id] = f"unknown change {change.entity}/{change.op}"

    async def _refresh_listing_copies(self, works: dict[uuid.UUID, catalog.WorkRead]) -> None:
        """Rewrite the work fields the listing documents of ``works`` copy, in every shop's index."""
        if not works:
            return
        engine = self.backend.engine
        shop_prefix = self.backend.names.shop_prefix()
        fields = {str(work_id): work_fields(work) for work_id, work in works.items()}
        ids = list(fields)
        # The engine refuses a query string over 4,000 characters: a bulk import changes
        # thousands of works at once, so their ids are asked for a slice at a time.
        slices = [
            ids[start : start + _COPIES_IDS_PER_QUERY] for start in range(0, len(ids), _COPIES_IDS_PER_QUERY)
        ]
        for alias in sorted(a for a in await engine.list_aliases() if a.startswith(shop_prefix)):
            for some in slices:
                wanted = ",".join(f"`{work_id}`" for work_id in some)
                page = 1
                while True:
                    params = {
                        "q": "*",
                        "filter_by": f"work_id:=[{wanted}]",
                        "per_page": _COPIES_PAGE,
                        "page": page,
                    }
                    hits = [hit["document"] for hit in (await engine.search(alias, params)).get("hits", [])]
                    if hits:
                        self._touched.add(alias)
                        await engine.import_documents(
                            alias, [{**doc, **fields[doc["work_id"]]} for doc in hits], action="upsert"
                        )
                    if len(hits) < _COPIES_PAGE:
                        break
                    page += 1

    async def _write(
        self,
        alias: str,
        changes: list[catalog.CatalogChangeRead],
        documents: dict[uuid.UUID, dict[str, Any]],
        done: list[int],
        failed: dict[int, str],
    ) -> None:
        engine = self.backend.engine
        self._touched.add(alias)
        upserts = [c for c in changes if c.op == "upsert" and c.entity_id in documents]
        if upserts:
            rejected = {
                str(result.get("document", "")): str(result.get("error"))
                for result in await engine.import_documents(
                    alias, [documents[c.entity_id] for c in upserts if c.entity_id], action="upsert"
                )
            }
            for change in upserts:
                error = next((e for doc, e in rejected.items() if str(change.entity_id) in doc), None)
                if error is None:
                    done.append(change.id)
                else:
                    failed[change.id] = f"the engine refused the document: {error}"
        for change in changes:
            if change.op == "delete" or (change.op == "upsert" and change.entity_id not in documents):
                # Gone from the catalogue (or deleted): remove it; a missing document is fine.
                await engine.delete_document(alias, str(change.entity_id))
                done.append(change.id)

    async def run_forever(self, *, poll_interval_s: float = 1.0, stop: asyncio.Event | None = None) -> None:
        """Run rounds until ``stop`` is set: at once while busy, else every ``poll_interval_s``."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                report = await self.run_once()
            except FolioError as exc:  # the database is down: wait and try again
                log.warning("search.sync_failed", error=exc.detail or exc.title)
                self._failed_round()
                report = SyncReport(errors=[exc.detail or exc.title])
            busy = report.claimed >= self.batch_size and not report.failed
            wait = self._backoff_s or (0.0 if busy else poll_interval_s)
            if wait:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=wait)
