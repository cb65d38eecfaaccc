"""The search context's public surface: what other contexts and entry points may import.

Key contracts: every index is an alias over a versioned collection (``IndexNames``;
reindexes swap the alias, zero downtime); a shop searches only its own collection
(service functions take the ``Principal``), and a browser gets a scoped key that
cannot widen to another shop; the catalogue's outbox reaches the engine through
``SearchSync`` (run by ``folio search sync``); in lite mode search answers 503
``search-unavailable``.
"""

from __future__ import annotations

from folio.search.dsl import TUNINGS
from folio.search.engine import (
    SearchEngine,
    SearchEngineError,
    SearchUnavailableError,
    generate_scoped_key,
    open_engine,
)
from folio.search.evaluation import (
    HANDJUDGED_PATH,
    EvalReport,
    InvalidJudgedSetError,
    JudgedQuery,
    evaluate,
    known_item_queries,
    load_judged_set,
    misspelt_queries,
    work_key,
)
from folio.search.facet_cache import FACETS_CACHE, FacetCache
from folio.search.indexes import IndexNames, ReindexReport, listing_document, work_document
from folio.search.querying import EngineQuery, QuerySyntaxError, Tuning
from folio.search.schemas import (
    IndexStatus,
    ScopedKeyRead,
    SearchHit,
    SearchResults,
    Suggestion,
    SynonymRead,
    SynonymWrite,
)
from folio.search.service import (
    MAX_RESULT_WINDOW,
    SEARCH_BACKEND,
    DeepPagingError,
    SearchBackend,
    SearchRequest,
    check_search_enabled,
    delete_synonym,
    index_status,
    issue_search_key,
    list_synonyms,
    open_search,
    plan_search,
    push_synonyms,
    search_backend,
    search_enabled,
    search_listings,
    search_works,
    set_synonym,
    suggest_titles,
    wired_search,
)
from folio.search.spelling import vocabulary_for
from folio.search.sync import SearchSync, SyncReport, reindex_shop, reindex_works

__all__ = [
    "FACETS_CACHE",
    "HANDJUDGED_PATH",
    "MAX_RESULT_WINDOW",
    "SEARCH_BACKEND",
    "TUNINGS",
    "DeepPagingError",
    "EngineQuery",
    "EvalReport",
    "FacetCache",
    "IndexNames",
    "IndexStatus",
    "InvalidJudgedSetError",
    "JudgedQuery",
    "QuerySyntaxError",
    "ReindexReport",
    "ScopedKeyRead",
    "SearchBackend",
    "SearchEngine",
    "SearchEngineError",
    "SearchHit",
    "SearchRequest",
    "SearchResults",
    "SearchSync",
    "SearchUnavailableError",
    "Suggestion",
    "SyncReport",
    "SynonymRead",
    "SynonymWrite",
    "Tuning",
    "check_search_enabled",
    "delete_synonym",
    "evaluate",
    "generate_scoped_key",
    "index_status",
    "issue_search_key",
    "known_item_queries",
    "list_synonyms",
    "listing_document",
    "load_judged_set",
    "misspelt_queries",
    "open_engine",
    "open_search",
    "plan_search",
    "push_synonyms",
    "reindex_shop",
    "reindex_works",
    "search_backend",
    "search_enabled",
    "search_listings",
    "search_works",
    "set_synonym",
    "suggest_titles",
    "vocabulary_for",
    "wired_search",
    "work_document",
    "work_key",
]
