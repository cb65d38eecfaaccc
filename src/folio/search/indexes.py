"""The search collections: their schema, their names, the documents in them, and reindexing.

Key contracts (``docs/search.md`` has the why):

- Every index is an **alias** pointing at a **versioned collection**: ``works`` ->
  ``works_<version>`` for the shared catalogue, ``shop_<tenant hex>`` ->
  ``shop_<hex>_<version>`` for one shop's listings. Readers and writers only ever use
  the alias; a reindex builds a new version beside the old, swaps the alias (atomic on
  the server) and then drops the old one, so queries keep answering throughout.
- ``IndexNames(prefix)`` makes every name; tests give each run its own prefix so they
  never touch each other's (or a real deployment's) collections.
- One document schema serves both (``collection_schema``); documents are built by
  ``work_document`` and ``listing_document`` from the catalogue's DTOs, with Folio's
  own stemming (``folio.textanalysis.analysis.analyze``) in the ``*_stem`` fields,
  because Typesense 0.24 has none.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from typing import Any

import structlog

from folio.catalog.api import ListingWithWork, WorkRead
from folio.search.engine import SearchEngine, SearchEngineError
from folio.textanalysis.api import analyze

__all__ = [
    "FACET_FIELDS",
    "PRICE_BANDS",
    "PRICE_BAND_RANGES",
    "PUBLIC_TENANT",
    "IndexNames",
    "ListingWithWork",
    "PriceBand",
    "ReindexReport",
    "SynonymSet",
    "WorkRead",
    "collection_schema",
    "ensure_index",
    "listing_document",
    "price_band",
    "rank_id",
    "reindex",
    "stemmed",
    "work_document",
]

log = structlog.get_logger(__name__)

PUBLIC_TENANT = "public"
"""``tenant_id`` of the published works' documents: what the "All works" search filters on."""

UNPUBLISHED_TENANT = "unpublished"
"""``tenant_id`` of a work neither published nor owned by a shop: no search finds it."""

FACET_FIELDS = ("subjects", "year", "publisher", "price_band", "condition")
"""The fields the search API facets on, in the order it reports them."""


@dataclass(frozen=True)
class PriceBand:
    """One ``price_band`` facet value: prices in major units from ``lower`` to ``upper`` (excluded)."""

    name: str
    lower: int
    upper: int | None
    """None: no upper bound."""


PRICE_BAND_RANGES = (
    PriceBand("under-5", 0, 5),
    PriceBand("5-10", 5, 10),
    PriceBand("10-20", 10, 20),
    PriceBand("20-50", 20, 50),
    PriceBand("50-plus", 50, None),
)
"""The price bands, cheapest first: the one definition the documents and the search page's facet use."""

PRICE_BANDS = tuple(band.name for band in PRICE_BAND_RANGES)
"""``price_band`` values by major currency units: [0,5), [5,10), [10,20), [20,50), [50,∞)."""

IMPORT_BATCH = 500
"""Documents per ``/documents/import`` request during a reindex."""


def collection_schema(name: str) -> dict[str, Any]:
    """The Typesense schema of a search collection called ``name`` (works and shops alike)."""

    def field(name: str, type_: str, **options: Any) -> dict[str, Any]:
        return {"name": name, "type": type_, **options}

    return {
        "name": name,
        "default_sorting_field": "rank_id",
        "fields": [
            field("tenant_id", "string", facet=True),
            field("kind", "string", facet=True),
            field("work_id", "string"),
            # Displayed, and searched only by autocomplete (prefixes of the raw words):
            # relevance searches go through the stemmed copies.
            field("title", "string"),
            field("title_stem", "string"),
            field("authors", "string[]", facet=True),
            field("authors_stem", "string"),
            field("publisher", "string", facet=True, optional=True),
            field("publisher_stem", "string", optional=True),
            field("year", "int32", facet=True, optional=True),
            field("subjects", "string[]", facet=True),
            field("description_stem", "string", optional=True),
            field("isbn13", "string", optional=True),
            field("has_preview", "bool"),
            field("price_cents", "int32", optional=True),
            field("currency", "string", optional=True),
            field("price_band", "string", facet=True, optional=True),
            field("condition", "string", facet=True, optional=True),
            field("stock", "int32", optional=True),
            field("rank_id", "int64"),
        ],
    }


@dataclass(frozen=True)
class IndexNames:
    """How aliases and collections are named; ``prefix`` keeps one deployment (or test) apart."""

    prefix: str = ""

    def works(self) -> str:
        """The alias of the shared works collection."""
        return f"{self.prefix}works"

    def shop(self, tenant_id: uuid.UUID) -> str:
        """The alias of one shop's listings collection."""
        return f"{self.shop_prefix()}{tenant_id.hex}"

    def shop_prefix(self) -> str:
        """What every shop alias of this deployment starts with."""
        return f"{self.prefix}shop_"

    def versioned(self, alias: str, version: int | None = None) -> str:
        """A new concrete collection name for ``alias`` (version: a nanosecond timestamp by default)."""
        return f"{alias}_{version if version is not None else time.time_ns()}"

    def is_version_of(self, alias: str, collection: str) -> bool:
        """Whether ``collection`` is one of ``alias``'s versioned collections."""
        suffix = collection.removeprefix(alias + "_")
        return suffix != collection and suffix.isdigit()


# --- documents ----------------------------------------------------------------------------------


def stemmed(text: str | None) -> str:
    """``text`` through Folio's analysis chain, joined by spaces: what a ``*_stem`` field holds."""
    return " ".join(analyze(text)) if text else ""


def rank_id(document_id: uuid.UUID) -> int:
    """A stable positive int64 per document (the top 63 bits of its UUID): tie-break and keyset key."""
    return document_id.int >> 65


def price_band(price_cents: int) -> str:
    """The facet band of a price in minor units (see ``PRICE_BAND_RANGES``)."""
    major = price_cents / 100
    return next(band.name for band in PRICE_BAND_RANGES if band.upper is None or major < band.upper)


def work_fields(work: WorkRead) -> dict[str, Any]:
    """The fields a work's own document and every listing of it share (a listing copies them)."""
    document: dict[str, Any] = {
        "work_id": str(work.id),
        "title": work.title,
        "title_stem": stemmed(work.title),
        "authors": list(work.authors),
        "authors_stem": stemmed(" ".join(work.authors)),
        "subjects": list(work.subjects),
        "has_preview": work.preview_key is not None,
    }
    # Optional fields are left out rather than sent as null: 0.24 rejects null values.
    if work.publisher:
        document["publisher"] = work.publisher
        document["publisher_stem"] = stemmed(work.publisher)
    if work.year is not None:
        document["year"] = work.year
    if work.description:
        document["description_stem"] = stemmed(work.description)
    if work.isbn13:
        document["isbn13"] = work.isbn13
    return document


def work_audience(work: WorkRead) -> str:
    """Whose searches may find ``work``: ``public`` when published, else its shop's id (or nobody's)."""
    if work.published:
        return PUBLIC_TENANT
    return str(work.owner_tenant_id) if work.owner_tenant_id is not None else UNPUBLISHED_TENANT


def work_document(work: WorkRead) -> dict[str, Any]:
    """The works-collection document of one work; its ``tenant_id`` is ``work_audience``."""
    return {
        "id": str(work.id),
        "tenant_id": work_audience(work),
        "kind": "work",
        **work_fields(work),
        "rank_id": rank_id(work.id),
    }


def listing_document(item: ListingWithWork, *, tenant_id: uuid.UUID) -> dict[str, Any]:
    """The shop-collection document of one listing of ``tenant_id`` (its work's fields plus the offer)."""
    listing = item.listing
    return {
        "id": str(listing.id),
        "tenant_id": str(tenant_id),
        "kind": "listing",
        **work_fields(item.work),
        "price_cents": listing.price_cents,
        "currency": listing.currency,
        "price_band": price_band(listing.price_cents),
        "condition": listing.condition.value,
        "stock": listing.stock,
        "rank_id": rank_id(listing.id),
    }


# --- building and rebuilding --------------------------------------------------------------------


@dataclass(frozen=True)
class SynonymSet:
    """One synonym set as pushed to the engine (``root`` set: one-way)."""

    name: str
    synonyms: tuple[str, ...]
    root: str | None = None

    def engine_synonyms(self) -> list[str]:
        """The terms as the engine needs them: each stemmed (the searched fields hold stems), and raw.

        The raw forms keep the set working for unstemmed tunings, which search the raw fields.
        """
        terms = [form for term in self.synonyms for form in (stemmed(term), term.casefold()) if form]
        return list(dict.fromkeys(terms))

    def engine_root(self) -> str | None:
        """The root as the engine matches it (stemmed), or None for a multi-way set."""
        return stemmed(self.root) or None if self.root else None


@dataclass(frozen=True)
class ReindexReport:
    """What a reindex did."""

    alias: str
    collection: str
    previous: str | None
    documents: int
    failures: list[dict[str, Any]]
    synonyms: int
    seconds: float


async def ensure_index(engine: SearchEngine, alias: str, *, names: IndexNames) -> str:
    """The collection ``alias`` points at, creating an empty versioned one (and the alias) if none.

    Two callers racing may both create a collection; the alias ends on one of them and the
    other is dropped, so the loser's writes (none yet: it was empty) are not lost.
    """
    current = await engine.get_alias(alias)
    if current is not None:
        return current
    collection = names.versioned(alias)
    await engine.create_collection(collection_schema(collection))
    await engine.set_alias(alias, collection)
    winner = await engine.get_alias(alias)
    if winner != collection:
        await engine.drop_collection(collection)
    log.info("search.index_created", alias=alias, collection=winner)
    return winner or collection


async def _batches(documents: AsyncIterable[dict[str, Any]] | Iterable[dict[str, Any]], size: int) -> Any:
    batch: list[dict[str, Any]] = []
    if isinstance(documents, AsyncIterable):
        async for document in documents:
            batch.append(document)
            if len(batch) >= size:
                yield batch
                batch = []
    else:
        for document in documents:
            batch.append(document)
            if len(batch) >= size:
                yield batch
                batch = []
    if batch:
        yield batch


async def reindex(
    engine: SearchEngine,
    alias: str,
    documents: AsyncIterable[dict[str, Any]] | Iterable[dict[str, Any]],
    *,
    names: IndexNames,
    synonyms: Iterable[SynonymSet] = (),
    batch_size: int = IMPORT_BATCH,
) -> ReindexReport:
    """Rebuild ``alias`` with zero downtime: new collection, bulk import, synonyms, alias swap, drop old.

    Until the swap every query goes to the old collection, which stays complete; the swap
    is one alias update; the old collection is dropped only after it. If anything fails
    before the swap the new collection is dropped and the alias is untouched.

    Writes the outbox sync makes to the old collection *during* the import are not in
    the new one unless the documents source already had them: run the sync again after
    a reindex (it re-applies pending changes; upserts are idempotent).
    """
    started = time.perf_counter()
    previous = await engine.get_alias(alias)
    collection = names.versioned(alias)
    await engine.create_collection(collection_schema(collection))
    count = 0
    failures: list[dict[str, Any]] = []
    pushed = 0
    try:
        async for batch in _batches(documents, batch_size):
            failures.extend(await engine.import_documents(collection, batch, action="upsert"))
            count += len(batch)
        for synonym in synonyms:
            await engine.upsert_synonym(
                collection, synonym.name, synonyms=synonym.engine_synonyms(), root=synonym.engine_root()
            )
            pushed += 1
        await engine.set_alias(alias, collection)
    except BaseException:
        await engine.drop_collection(collection)
        raise
    if previous is not None and previous != collection:
        try:
            await engine.drop_collection(previous)
        except SearchEngineError:
            # The new index is live; an old one left behind is garbage, not an outage.
            log.warning("search.reindex_drop_failed", alias=alias, collection=previous)
    report = ReindexReport(
        alias=alias,
        collection=collection,
        previous=previous,
        documents=count - len(failures),
        failures=failures,
        synonyms=pushed,
        seconds=time.perf_counter() - started,
    )
    log.info(
        "search.reindexed",
        alias=alias,
        collection=collection,
        documents=report.documents,
        failures=len(failures),
        seconds=round(report.seconds, 3),
    )
    return report
