"""The search context's HTTP adapter: ``/api/v1/search...``.

Thin: each handler turns HTTP into a service call. The engine client is opened per
request by ``SearchDep`` (a loopback connection is cheap, and nothing is left open when
the app stops); in lite mode (SQLite, no servers) the dependency answers 503
``search-unavailable`` before anything is tried.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Response, status

from folio.core.text import CleanText
from folio.httpkit import CurrentPrincipal, DatabaseDep, PlatformDep, SettingsDep, problem_responses
from folio.search import service
from folio.search.schemas import (
    SYNONYM_NAME,
    ScopedKeyRead,
    SearchResults,
    Suggestion,
    SynonymRead,
    SynonymWrite,
)
from folio.search.service import (
    FACET_NAMES,
    FACETS_PATTERN,
    MAX_PER_PAGE,
    MAX_RANK_ID,
    MAX_RESULT_WINDOW,
    SearchBackend,
)

__all__ = ["OPENAPI_TAG", "OPENAPI_TAGS", "router"]

OPENAPI_TAG = "search"

OPENAPI_TAGS = [
    {
        "name": OPENAPI_TAG,
        "description": "Full-text search over the shop's listings and the shared catalogue "
        "(Typesense; Folio's DSL, stemming, per-shop synonyms, facets, highlights).",
    }
]
"""Tag descriptions for the app's ``openapi_tags``."""

router = APIRouter(tags=[OPENAPI_TAG])


async def _backend(platform: PlatformDep) -> SearchBackend:
    # The platform's long-lived backend (bootstrap wires one per process when search is on).
    return service.wired_search(platform)


SearchDep = Annotated[SearchBackend, Depends(_backend)]

QueryText = Annotated[
    str,
    CleanText(max_length=500),
    Query(
        description=(
            'Search DSL: words, "phrases", `author:tolkien`, `year:>1990`, `price:<20`, '
            "`subject:poetry`, ... (see docs/search-relevance.md)"
        ),
    ),
]
Page = Annotated[
    int,
    Query(ge=1, le=MAX_RESULT_WINDOW, description=f"Page number; page x per_page <= {MAX_RESULT_WINDOW}."),
]
PerPage = Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="Hits per page.")]
After = Annotated[
    int | None,
    Query(
        ge=0,
        le=MAX_RANK_ID,
        description="Keyset paging: the `rank_id` of the last hit seen (`next_after`); replaces `page`.",
    ),
]
Facets = Annotated[
    Annotated[str, CleanText(max_length=200, pattern=FACETS_PATTERN)] | None,
    Query(
        description=f"Comma-separated facets to count, of {', '.join(f'`{n}`' for n in FACET_NAMES)} "
        "(default: all); empty for none. Any other name is a 422.",
    ),
]

Correct = Annotated[
    bool,
    Query(
        description="Correct the spelling of words no work contains (`hamlt` -> `hamlet`; the response's "
        "`corrected_query` says so); `false` searches exactly what was typed.",
    ),
]

_SEARCH_PROBLEMS = problem_responses(400, 401, 422, 429, 503)


def _facet_list(facets: str | None) -> list[str] | None:
    if facets is None:
        return None
    return [name.strip() for name in facets.split(",") if name.strip()]


@router.get(
    "/search",
    operation_id="searchListings",
    summary="Search the shop's listings",
    description=(
        "Full-text search over the caller's shop's listings with facet counts and highlights. "
        f"Numbered pages reach {MAX_RESULT_WINDOW} results deep; beyond, a 400 `deep-paging` problem "
        "names the alternative: `after=<next_after>` walks all hits in `rank_id` order. A query that "
        "is not valid DSL is a 400 `query-syntax` problem with the `position` of the error."
    ),
    response_model=SearchResults,
    responses=_SEARCH_PROBLEMS,
)
async def search_listings(
    *,
    backend: SearchDep,
    principal: CurrentPrincipal,
    q: QueryText = "",
    page: Page = 1,
    per_page: PerPage = 20,
    after: After = None,
    facets: Facets = None,
    correct: Correct = True,
) -> SearchResults:
    """``GET /api/v1/search``."""
    return await service.search_listings(
        backend,
        principal=principal,
        query=q,
        page=page,
        per_page=per_page,
        facets=_facet_list(facets),
        after=after,
        correct=correct,
    )


@router.get(
    "/search/works",
    operation_id="searchWorks",
    summary="Search the shared catalogue of works",
    description=(
        "Any member may search every published work in the catalogue (not only those their "
        "shop lists), and the works their shop created that are not published yet."
    ),
    response_model=SearchResults,
    responses=_SEARCH_PROBLEMS,
)
async def search_works(
    *,
    backend: SearchDep,
    principal: CurrentPrincipal,
    q: QueryText = "",
    page: Page = 1,
    per_page: PerPage = 20,
    after: After = None,
    facets: Facets = None,
    correct: Correct = True,
) -> SearchResults:
    """``GET /api/v1/search/works``."""
    return await service.search_works(
        backend,
        shop_id=principal.tenant_id,
        query=q,
        page=page,
        per_page=per_page,
        facets=_facet_list(facets),
        after=after,
        correct=correct,
    )


@router.get(
    "/search/suggest",
    operation_id="suggestTitles",
    summary="Autocomplete titles",
    description=(
        "Up to 8 of the shop's listed titles with a word starting with `q` "
        "(or of all works, with `scope=works`)."
    ),
    response_model=list[Suggestion],
    responses=_SEARCH_PROBLEMS,
)
async def suggest(
    *,
    backend: SearchDep,
    principal: CurrentPrincipal,
    q: Annotated[str, CleanText(max_length=100), Query(description="What the user typed so far.")],
    scope: Annotated[
        str, Query(pattern="^(shop|works)$", description="`shop` (default) or `works`.")
    ] = "shop",
) -> list[Suggestion]:
    """``GET /api/v1/search/suggest``."""
    return await service.suggest_titles(backend, prefix=q, principal=principal if scope == "shop" else None)


@router.post(
    "/search/keys",
    operation_id="issueSearchKey",
    summary="Issue a scoped search key for the shop",
    description=(
        "A Typesense key for browsers querying the engine directly, valid until `expires_at`: it "
        "searches the shop's listings alias and the shared works alias (`collections`) and nothing "
        "else; every other collection on the server (another shop's, the operators' logs) answers "
        "401, and an added `filter_by` cannot widen it. Every role gets the same reach."
    ),
    response_model=ScopedKeyRead,
    responses=_SEARCH_PROBLEMS,
)
async def issue_key(*, backend: SearchDep, principal: CurrentPrincipal) -> ScopedKeyRead:
    """``POST /api/v1/search/keys``."""
    return await service.issue_search_key(backend, principal=principal)


SynonymName = Annotated[
    str,
    CleanText(max_length=60, pattern=SYNONYM_NAME.pattern),
    Path(description="The set's name: lowercase letters, digits, dashes."),
]


@router.get(
    "/search/synonyms",
    operation_id="listSearchSynonyms",
    summary="List the shop's synonym sets",
    response_model=list[SynonymRead],
    responses=problem_responses(401, 429, 503),
)
async def list_synonyms(
    *, db: DatabaseDep, settings: SettingsDep, principal: CurrentPrincipal
) -> list[SynonymRead]:
    """``GET /api/v1/search/synonyms``."""
    service.check_search_enabled(settings)
    return await service.list_synonyms(db, tenant_id=principal.tenant_id)


@router.put(
    "/search/synonyms/{name}",
    operation_id="setSearchSynonym",
    summary="Create or replace a synonym set (managers)",
    description="Applies to this shop's searches only, at once. Audited.",
    response_model=SynonymRead,
    responses=problem_responses(401, 403, 422, 429, 503),
)
async def set_synonym(
    *,
    db: DatabaseDep,
    backend: SearchDep,
    principal: CurrentPrincipal,
    name: SynonymName,
    data: Annotated[
        SynonymWrite,
        Body(
            openapi_examples={
                "multi-way": {
                    "summary": "Equivalent terms",
                    "value": {"synonyms": ["sci-fi", "science fiction"]},
                },
                "one-way": {
                    "summary": "Root to synonyms",
                    "value": {"root": "classic", "synonyms": ["penguin classics"]},
                },
            }
        ),
    ],
) -> SynonymRead:
    """``PUT /api/v1/search/synonyms/{name}``."""
    return await service.set_synonym(
        db, backend, tenant_id=principal.tenant_id, name=name, data=data, principal=principal
    )


@router.delete(
    "/search/synonyms/{name}",
    operation_id="deleteSearchSynonym",
    summary="Delete a synonym set (managers)",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 429, 503),
)
async def delete_synonym(
    *, db: DatabaseDep, backend: SearchDep, principal: CurrentPrincipal, name: SynonymName
) -> Response:
    """``DELETE /api/v1/search/synonyms/{name}``: 204."""
    await service.delete_synonym(db, backend, tenant_id=principal.tenant_id, name=name, principal=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
