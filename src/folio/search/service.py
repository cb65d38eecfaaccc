"""The search use cases: querying, autocomplete, scoped keys, synonyms, reindexing, status.

Every function takes a ``SearchBackend`` (the engine client plus how indexes are
named) and, for a shop's data, the caller's ``Principal``: a caller only ever searches
its own shop's collection (its alias is derived from ``principal.tenant_id``, and the
query also filters on ``tenant_id`` as defence in depth).

Paging: numbered pages up to ``MAX_RESULT_WINDOW`` results deep (page x per_page);
beyond it ``DeepPagingError`` (400) names the keyset alternative: ``after=<rank_id>``
walks every hit in ``rank_id`` order, any depth, at constant cost per page.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.api import ActorKind, actor_of, record_event
from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.errors import FolioError, InvalidParam, NotFoundError, ValidationFailedError
from folio.core.platform import Platform, Slot
from folio.core.security import MANAGER_ROLES, Principal, require_role
from folio.core.settings import Settings
from folio.core.tenancy import tenant_filter, tenant_scope
from folio.search.engine import (
    EngineNotFoundError,
    SearchEngine,
    SearchEngineError,
    SearchUnavailableError,
    engine_for,
)
from folio.search.facet_cache import FacetCache
from folio.search.indexes import (
    FACET_FIELDS,
    PUBLIC_TENANT,
    IndexNames,
    SynonymSet,
    ensure_index,
)
from folio.search.keys import ensure_shop_parent_key, scoped_key_for, shop_key_collections
from folio.search.models import SearchSynonym
from folio.search.querying import EngineQuery, Tuning, compile_text, highlight
from folio.search.schemas import (
    SYNONYM_NAME,
    FacetCount,
    FacetRead,
    IndexStatus,
    ScopedKeyRead,
    SearchHit,
    SearchResults,
    Suggestion,
    SynonymRead,
    SynonymWrite,
)
from folio.search.spelling import vocabulary_for

__all__ = [
    "DEFAULT_KEY_TTL_S",
    "FACETS_PATTERN",
    "FACET_NAMES",
    "MAX_PER_PAGE",
    "MAX_RANK_ID",
    "MAX_RESULT_WINDOW",
    "SEARCH_BACKEND",
    "DeepPagingError",
    "SearchBackend",
    "SearchRequest",
    "delete_synonym",
    "index_status",
    "issue_search_key",
    "list_synonyms",
    "open_search",
    "plan_search",
    "push_synonyms",
    "search_backend",
    "search_listings",
    "search_works",
    "set_synonym",
    "shop_synonyms",
    "suggest_titles",
    "wired_search",
]

log = structlog.get_logger(__name__)

MAX_PER_PAGE = 100
"""Largest ``per_page``."""

MAX_RESULT_WINDOW = 1000
"""Numbered pages reach at most this many results deep; use ``after`` beyond."""

DEFAULT_KEY_TTL_S = 3600
"""Lifetime of a scoped search key."""

SUGGESTIONS = 8

_FACET_NAMES = {"subjects": "subject"}
_FACET_FIELD_OF = {"subject": "subjects", **{name: name for name in FACET_FIELDS if name != "subjects"}}

FACET_NAMES: tuple[str, ...] = tuple(_FACET_FIELD_OF)
"""The facet names a search may ask for, in the order results report them."""

_ONE_FACET = f"(?:{'|'.join(FACET_NAMES)})?"
FACETS_PATTERN = f"^ *{_ONE_FACET} *(?:, *{_ONE_FACET} *)*$"
"""A comma-separated list of ``FACET_NAMES`` (spaces and empty items allowed), as the API takes it."""

MAX_RANK_ID = 2**63 - 1
"""The largest ``rank_id`` (an int64), so the largest ``after``."""
_STEM_FIELDS = "title_stem,authors_stem,publisher_stem,description_stem"
_HAS_WORD = re.compile(r"[^\W\d_]")


class DeepPagingError(FolioError, code="deep-paging", title="Page too deep", status=400):
    """A numbered page beyond ``MAX_RESULT_WINDOW`` results: use keyset paging (``after``) instead."""


@dataclass
class SearchBackend:
    """The engine client, how this deployment names its indexes, and its facet-count cache (if any)."""

    engine: SearchEngine
    names: IndexNames = field(default_factory=IndexNames)
    facets: FacetCache | None = None

    async def aclose(self) -> None:
        """Close the engine client."""
        await self.engine.aclose()


def search_enabled(settings: Settings) -> bool:
    """Whether this deployment has a search engine: not in lite mode (SQLite, no servers)."""
    return not settings.lite_mode


def check_search_enabled(settings: Settings) -> None:
    """Raise ``SearchUnavailableError`` in lite mode, saying why and what to run instead."""
    if not search_enabled(settings):
        raise SearchUnavailableError(
            "search needs the Typesense server, which lite mode (SQLite, no servers) does not run; "
            "start Folio with `folio up` (not --lite) to search",
            lite_mode=True,
        )


def search_backend(settings: Settings, *, facets: FacetCache | None = None) -> SearchBackend:
    """A long-lived backend on the configured server, for one process (close it with ``aclose``).

    One per process, not per request, so that every request shares its connection pool
    (a request would otherwise open a connection, and close it, around each search).
    ``facets`` caches facet counts (``folio.search.facet_cache``; bootstrap passes one).
    """
    return SearchBackend(engine_for(settings), facets=facets)


SEARCH_BACKEND: Slot[SearchBackend] = Slot("search backend")
"""Where bootstrap puts the process's long-lived backend (left empty in lite mode)."""


def wired_search(platform: Platform) -> SearchBackend:
    """The process's search backend.

    Raises ``SearchUnavailableError`` in lite mode (bootstrap wires no engine there).
    """
    check_search_enabled(platform.settings)
    return platform.get(SEARCH_BACKEND)


@asynccontextmanager
async def open_search(settings: Settings, *, prefix: str = "") -> AsyncIterator[SearchBackend]:
    """A ``SearchBackend`` on the configured server, closed at the end of the block."""
    backend = SearchBackend(engine_for(settings), IndexNames(prefix))
    try:
        yield backend
    finally:
        await backend.aclose()


# --- searching ----------------------------------------------------------------------------------


def _check_window(page: int, per_page: int) -> None:
    if page * per_page > MAX_RESULT_WINDOW:
        raise DeepPagingError(
            f"numbered pages reach {MAX_RESULT_WINDOW} results deep (page x per_page); page {page} of "
            f"{per_page} is beyond: to walk further pass `after=<rank_id of the last hit>` instead of "
            "`page` (keyset paging in rank_id order, any depth)",
            max_result_window=MAX_RESULT_WINDOW,
        )


def _facet_fields(facets: list[str] | None) -> list[str]:
    if facets is None:
        return list(FACET_FIELDS)
    fields = []
    for name in facets:
        engine_field = _FACET_FIELD_OF.get(name)
        if engine_field is None:
            raise ValidationFailedError(
                f"unknown facet {name!r}; known: {', '.join(sorted(_FACET_FIELD_OF))}",
                errors=[InvalidParam(name="query.facets", reason=f"unknown facet {name!r}")],
            )
        fields.append(engine_field)
    return fields


def _params(
    compiled: EngineQuery,
    *,
    tenant_filter_value: str,
    page: int,
    per_page: int,
    facets: list[str],
    after: int | None,
) -> dict[str, Any]:
    filters = [f"tenant_id:={tenant_filter_value}"]
    if compiled.filter_by:
        filters.append(f"({compiled.filter_by})")
    params: dict[str, Any] = {
        "q": compiled.q,
        "query_by": ",".join(compiled.query_by),
        "query_by_weights": ",".join(str(weight) for weight in compiled.query_by_weights),
        "per_page": per_page,
        "exclude_fields": _STEM_FIELDS,
        "highlight_fields": "none",
        **compiled.extra,
    }
    if after is not None:
        # Keyset mode: rank_id order, strictly after the last hit seen; always "page 1".
        filters.append(f"rank_id:>{after}")
        params["sort_by"] = "rank_id:asc"
        params["page"] = 1
    else:
        params["sort_by"] = "_text_match:desc,rank_id:desc" if compiled.q != "*" else "rank_id:desc"
        params["page"] = page
    params["filter_by"] = " && ".join(filters)
    if facets:
        params["facet_by"] = ",".join(facets)
        params["max_facet_values"] = 10
    return params


def _hit(document: dict[str, Any], terms: frozenset[str]) -> SearchHit:
    hit = SearchHit.model_validate(
        {key: value for key, value in document.items() if key in SearchHit.model_fields}
    )
    if terms:
        hit.highlights = {
            "title": highlight(hit.title, terms),
            "authors": "; ".join(highlight(author, terms) for author in hit.authors),
        }
    return hit


def _results(
    body: dict[str, Any], *, query: str, compiled: EngineQuery, page: int | None, per_page: int
) -> SearchResults:
    hits = [_hit(item["document"], compiled.highlight_terms) for item in body.get("hits", [])]
    facets = [
        FacetRead(
            field=_FACET_NAMES.get(facet["field_name"], facet["field_name"]),
            counts=[
                FacetCount(value=str(c["value"]), count=int(c["count"])) for c in facet.get("counts", [])
            ],
        )
        for facet in body.get("facet_counts", [])
    ]
    next_after = None
    if page is None and len(hits) == per_page:
        next_after = hits[-1].rank_id
    return SearchResults(
        query=query,
        found=int(body.get("found", 0)),
        page=page,
        per_page=per_page,
        hits=hits,
        facets=facets,
        next_after=next_after,
        search_time_ms=int(body.get("search_time_ms", 0)),
    )


@dataclass(frozen=True)
class SearchRequest:
    """What one search sends the engine: the compiled query and its Typesense parameters."""

    compiled: EngineQuery
    params: dict[str, Any]


def plan_search(
    query: str,
    *,
    tenant_value: str,
    tuning: Tuning,
    page: int,
    per_page: int,
    facets: list[str] | None,
    after: int | None = None,
) -> SearchRequest:
    """Validate paging, compile ``query`` and build the engine parameters, without sending them.

    ``tenant_value`` is the shop's id, or ``"public"`` for the works index. Benchmarks
    use this to send the engine exactly what the API sends.
    """
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ValidationFailedError(
            f"per_page must be 1 to {MAX_PER_PAGE}",
            errors=[InvalidParam(name="query.per_page", reason=f"1 to {MAX_PER_PAGE}")],
        )
    if after is None:
        _check_window(page, per_page)
    compiled = compile_text(query, tuning=tuning)
    params = _params(
        compiled,
        tenant_filter_value=tenant_value,
        page=page,
        per_page=per_page,
        facets=_facet_fields(facets),
        after=after,
    )
    return SearchRequest(compiled=compiled, params=params)


async def _search(
    backend: SearchBackend,
    alias: str,
    *,
    query: str,
    tenant_value: str,
    tuning: Tuning,
    page: int,
    per_page: int,
    facets: list[str] | None,
    after: int | None,
    correct: bool,
) -> SearchResults:
    search_as = functools.partial(
        _search_once,
        backend,
        alias,
        tenant_value=tenant_value,
        tuning=tuning,
        page=page,
        per_page=per_page,
        facets=facets,
        after=after,
    )
    corrected = await _corrected_query(backend, query) if correct else None
    if corrected is not None:
        results = await search_as(query=corrected)
        if results.found:
            return results.model_copy(update={"query": query, "corrected_query": corrected})
    return await search_as(query=query)


async def _corrected_query(backend: SearchBackend, query: str) -> str | None:
    """The spelling-corrected query when ``query`` has a word the catalogue does not know, else None."""
    if not _HAS_WORD.search(query):
        return None  # `*`, filters only: nothing to correct, and no vocabulary to build for it
    try:
        corrector = await vocabulary_for(backend.engine, backend.names.works())
    except SearchEngineError as exc:
        # Correction is a help, not the search: without a vocabulary, search as typed.
        log.warning("search.vocabulary_unavailable", error=str(exc))
        return None
    return corrector.correct(query) if corrector is not None else None


async def _search_once(
    backend: SearchBackend,
    alias: str,
    *,
    query: str,
    tenant_value: str,
    tuning: Tuning,
    page: int,
    per_page: int,
    facets: list[str] | None,
    after: int | None,
) -> SearchResults:
    request = plan_search(
        query,
        tenant_value=tenant_value,
        tuning=tuning,
        page=page,
        per_page=per_page,
        facets=facets,
        after=after,
    )

    async def ask(params: dict[str, Any]) -> dict[str, Any]:
        try:
            return await backend.engine.search(alias, params)
        except EngineNotFoundError:
            # No index yet (a shop with no listings, a fresh deployment): nothing matches.
            return {"found": 0, "hits": []}

    if backend.facets is not None and "facet_by" in request.params:
        body = await backend.facets.search(alias, request.params, ask)
    else:
        body = await ask(request.params)
    return _results(
        body,
        query=query,
        compiled=request.compiled,
        page=None if after is not None else page,
        per_page=per_page,
    )


async def search_listings(
    backend: SearchBackend,
    *,
    principal: Principal,
    query: str,
    page: int = 1,
    per_page: int = 20,
    facets: list[str] | None = None,
    after: int | None = None,
    tuning: Tuning | None = None,
    correct: bool = True,
) -> SearchResults:
    """Search the caller's shop's listings, with facet counts and highlights.

    With ``correct`` (the default), a query with a word the catalogue does not know is
    spelling-corrected first (``folio.search.spelling``); when the corrected query finds
    hits they are returned with ``corrected_query`` set, else the query runs as typed.

    Raises:
        QuerySyntaxError: ``query`` is not valid DSL (400, with the position).
        DeepPagingError: ``page`` x ``per_page`` is beyond ``MAX_RESULT_WINDOW``.
        SearchUnavailableError: the engine cannot be reached.
    """
    return await _search(
        backend,
        backend.names.shop(principal.tenant_id),
        query=query,
        tenant_value=str(principal.tenant_id),
        tuning=tuning or Tuning(),
        page=page,
        per_page=per_page,
        facets=facets,
        after=after,
        correct=correct,
    )


async def search_works(
    backend: SearchBackend,
    *,
    query: str,
    tuning: Tuning | None = None,
    page: int = 1,
    per_page: int = 20,
    facets: list[str] | None = None,
    after: int | None = None,
    correct: bool = True,
    shop_id: uuid.UUID | None = None,
) -> SearchResults:
    """Search the shared catalogue of works (any member may; hits carry ``work_id``).

    Published works match; with ``shop_id``, so do that shop's private works (those
    it created that no curator has published yet). Spelling correction as in
    ``search_listings``. Also the function ``folio search eval`` measures, one
    ``tuning`` at a time, with and without correction.
    """
    audience = PUBLIC_TENANT if shop_id is None else f"[{PUBLIC_TENANT},{shop_id}]"
    return await _search(
        backend,
        backend.names.works(),
        query=query,
        tenant_value=audience,
        tuning=tuning or Tuning(),
        page=page,
        per_page=per_page,
        facets=facets if facets is not None else ["subject", "year", "publisher"],
        after=after,
        correct=correct,
    )


async def suggest_titles(
    backend: SearchBackend, *, prefix: str, principal: Principal | None = None
) -> list[Suggestion]:
    """Up to eight titles starting with (words starting with) ``prefix``: the shop's, or all works."""
    text = prefix.strip()
    if not text:
        return []
    alias = backend.names.shop(principal.tenant_id) if principal is not None else backend.names.works()
    tenant_value = str(principal.tenant_id) if principal is not None else "public"
    params = {
        "q": text,
        "query_by": "title",
        "prefix": "true",
        "num_typos": 1,
        "per_page": SUGGESTIONS,
        "filter_by": f"tenant_id:={tenant_value}",
        "include_fields": "id,work_id,title",
        "highlight_fields": "title",
        "highlight_start_tag": "\x02",
        "highlight_end_tag": "\x03",
    }
    try:
        body = await backend.engine.search(alias, params)
    except EngineNotFoundError:
        return []
    suggestions: list[Suggestion] = []
    for item in body.get("hits", []):
        document = item["document"]
        marked = next(
            (
                h.get("snippet") or h.get("value")
                for h in item.get("highlights", [])
                if h.get("field") == "title"
            ),
            None,
        )
        # The engine's markers are control characters, so escaping first cannot break them.
        rendered = (
            html.escape(marked).replace("\x02", "<mark>").replace("\x03", "</mark>")
            if marked
            else html.escape(document["title"])
        )
        suggestions.append(
            Suggestion(
                id=document["id"], work_id=document["work_id"], title=document["title"], highlight=rendered
            )
        )
    return suggestions


# --- scoped keys --------------------------------------------------------------------------------


async def issue_search_key(
    backend: SearchBackend, *, principal: Principal, ttl_s: int = DEFAULT_KEY_TTL_S
) -> ScopedKeyRead:
    """A scoped key for ``ttl_s`` seconds that searches the caller's shop's listings and the works.

    Any member may have one (every role reads the same documents); it reaches no other
    collection on the server: not another shop's, not the log collection.
    """
    parent = await ensure_shop_parent_key(backend.engine, backend.names, principal.tenant_id)
    scoped = scoped_key_for(parent, principal.tenant_id, ttl_s=ttl_s)
    return ScopedKeyRead(
        key=scoped.key,
        expires_at=dt.datetime.fromtimestamp(scoped.expires_at, tz=dt.UTC),
        collection=backend.names.shop(principal.tenant_id),
        collections=shop_key_collections(backend.names, principal.tenant_id),
    )


# --- synonyms -----------------------------------------------------------------------------------

SYNONYM_ENTITY = "search_synonym"


async def _load_synonyms(session: AsyncSession) -> list[SearchSynonym]:
    rows = await session.scalars(
        select(SearchSynonym).where(tenant_filter(SearchSynonym)).order_by(SearchSynonym.name)
    )
    return list(rows)


async def list_synonyms(db: Database, *, tenant_id: uuid.UUID) -> list[SynonymRead]:
    """The shop's synonym sets, by name (any member may read them)."""

    async def work(session: AsyncSession) -> list[SynonymRead]:
        return [SynonymRead.model_validate(row) for row in await _load_synonyms(session)]

    with tenant_scope(tenant_id):
        return await db.run(work, readonly=True)


async def shop_synonyms(db: Database, *, tenant_id: uuid.UUID) -> list[SynonymSet]:
    """The shop's synonym sets in the shape the engine takes (what a reindex copies)."""
    return [
        SynonymSet(name=row.name, synonyms=tuple(row.synonyms), root=row.root)
        for row in await list_synonyms(db, tenant_id=tenant_id)
    ]


def _actor(principal: Principal | None) -> tuple[ActorKind, uuid.UUID | None]:
    # No principal: an operator at the command line, which the audit trail calls "system".
    return actor_of(principal) if principal is not None else ("system", None)


def _check_name(name: str) -> None:
    if not SYNONYM_NAME.match(name):
        raise ValidationFailedError(
            "a synonym set's name is 1 to 60 lowercase letters, digits and dashes, "
            "starting with a letter or digit",
            errors=[InvalidParam(name="path.name", reason="expected [a-z0-9][a-z0-9-]{0,59}")],
        )


async def _shop_collection(backend: SearchBackend, tenant_id: uuid.UUID) -> str:
    return await ensure_index(backend.engine, backend.names.shop(tenant_id), names=backend.names)


async def set_synonym(
    db: Database,
    backend: SearchBackend,
    *,
    tenant_id: uuid.UUID,
    name: str,
    data: SynonymWrite,
    principal: Principal | None,
) -> SynonymRead:
    """Create or replace the shop's synonym set ``name`` and push it to the shop's collection.

    ``principal`` None: an operator (``folio search synonyms set``), audited as ``system``.
    The engine push happens inside the transaction, so a push that fails rolls the row
    back: the database and the engine do not disagree.

    Raises:
        PermissionDeniedError: the principal is not a manager of the shop.
        SearchUnavailableError: the engine cannot be reached (nothing is saved).
    """
    if principal is not None:
        require_role(principal, MANAGER_ROLES, action="change search synonyms")
    _check_name(name)
    actor_kind, actor_id = _actor(principal)

    async def work(session: AsyncSession) -> SynonymRead:
        existing = await session.scalar(
            select(SearchSynonym)
            .where(tenant_filter(SearchSynonym), SearchSynonym.name == name)
            .with_for_update()
        )
        before = SynonymRead.model_validate(existing).model_dump(mode="json") if existing else None
        now = utcnow()
        row = existing or SearchSynonym(id=uuid.uuid4(), tenant_id=tenant_id, name=name, created_at=now)
        row.synonyms = list(data.synonyms)
        row.root = data.root
        row.updated_by = actor_id
        row.updated_at = now
        if existing is None:
            session.add(row)
        await session.flush()
        saved = SynonymRead.model_validate(row)
        await record_event(
            session,
            tenant_id=tenant_id,
            actor_kind=actor_kind,
            actor_id=actor_id,
            action="search_synonym.updated" if existing else "search_synonym.created",
            entity_type=SYNONYM_ENTITY,
            entity_id=name,
            before=before,
            after=saved.model_dump(mode="json"),
        )
        collection = await _shop_collection(backend, tenant_id)
        pushed = SynonymSet(name=name, synonyms=tuple(data.synonyms), root=data.root)
        await backend.engine.upsert_synonym(
            collection, name, synonyms=pushed.engine_synonyms(), root=pushed.engine_root()
        )
        return saved

    with tenant_scope(tenant_id):
        saved = await db.run(work)
    await forget_facets(backend, backend.names.shop(tenant_id))
    log.info("search.synonym_set", tenant_id=str(tenant_id), name=name)
    return saved


async def delete_synonym(
    db: Database, backend: SearchBackend, *, tenant_id: uuid.UUID, name: str, principal: Principal | None
) -> None:
    """Delete the shop's synonym set ``name`` here and in the engine (``NotFoundError`` if none)."""
    if principal is not None:
        require_role(principal, MANAGER_ROLES, action="change search synonyms")
    actor_kind, actor_id = _actor(principal)

    async def work(session: AsyncSession) -> None:
        row = await session.scalar(
            select(SearchSynonym)
            .where(tenant_filter(SearchSynonym), SearchSynonym.name == name)
            .with_for_update()
        )
        if row is None:
            raise NotFoundError(f"this shop has no synonym set {name!r}", entity=SYNONYM_ENTITY)
        before = SynonymRead.model_validate(row).model_dump(mode="json")
        await session.delete(row)
        await record_event(
            session,
            tenant_id=tenant_id,
            actor_kind=actor_kind,
            actor_id=actor_id,
            action="search_synonym.deleted",
            entity_type=SYNONYM_ENTITY,
            entity_id=name,
            before=before,
        )
        collection = await backend.engine.get_alias(backend.names.shop(tenant_id))
        if collection is not None:
            await backend.engine.delete_synonym(collection, name)

    with tenant_scope(tenant_id):
        await db.run(work)
    await forget_facets(backend, backend.names.shop(tenant_id))
    log.info("search.synonym_deleted", tenant_id=str(tenant_id), name=name)


async def push_synonyms(db: Database, backend: SearchBackend, *, tenant_id: uuid.UUID) -> int:
    """Copy every synonym set of the shop to its current collection (repair after an outage)."""
    collection = await _shop_collection(backend, tenant_id)
    sets = await shop_synonyms(db, tenant_id=tenant_id)
    for synonym in sets:
        await backend.engine.upsert_synonym(
            collection, synonym.name, synonyms=synonym.engine_synonyms(), root=synonym.engine_root()
        )
    await forget_facets(backend, backend.names.shop(tenant_id))
    return len(sets)


async def forget_facets(backend: SearchBackend, *aliases: str) -> None:
    """Drop the cached facet counts of the indexes ``aliases`` name (they changed); no cache, nothing to do.

    A failure (Redis down) is logged, not raised: the index change stands, and the
    counts are stale for at most ``FACETS_TTL_S``.
    """
    if backend.facets is None or not aliases:
        return
    try:
        await backend.facets.forget(set(aliases))
    except Exception as exc:  # noqa: BLE001 - redis-py's errors are not builtins; any of them is logged
        log.warning("search.facets_not_forgotten", aliases=sorted(aliases), error=repr(exc))


# --- status -------------------------------------------------------------------------------------


async def index_status(backend: SearchBackend) -> list[IndexStatus]:
    """Every alias of this deployment (its prefix), its collection and document count."""
    aliases = await backend.engine.list_aliases()
    prefix = backend.names.prefix
    wanted = {alias: target for alias, target in aliases.items() if alias.startswith(prefix)}
    works = backend.names.works()
    statuses = []
    for alias in sorted(wanted, key=lambda name: (name != works, name)):
        if alias != works and not alias.startswith(f"{prefix}shop_"):
            continue
        collection = await backend.engine.get_collection(wanted[alias])
        statuses.append(
            IndexStatus(
                alias=alias,
                collection=wanted[alias],
                documents=int(collection["num_documents"]) if collection else None,
            )
        )
    return statuses
