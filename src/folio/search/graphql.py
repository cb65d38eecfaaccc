"""Search's part of the GraphQL schema: the shop's listings by full text.

The resolver calls search's ``search_listings``, the REST API's ``/api/v1/search``:
the caller's shop's collection only, the same DSL, spelling correction and errors
(``query-syntax``, ``deep-paging``, ``search-unavailable`` in lite mode).
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from folio.graphqlkit import GraphQLContext, SchemaPart, context_of, field
from folio.search import service
from folio.search.schemas import SearchResults

__all__ = ["SCHEMA", "SearchHit", "SearchPage"]


@strawberry.type(description="One matching listing.")
class SearchHit:
    """GraphQL's view of a ``SearchHit``."""

    id: str
    work_id: str
    title: str
    authors: list[str]
    publisher: str | None
    year: int | None
    isbn13: str | None
    price_cents: int | None
    currency: str | None
    condition: str | None
    stock: int | None


@strawberry.type(description="One page of search results.")
class SearchPage:
    """GraphQL's view of ``SearchResults``."""

    query: str
    corrected_query: str | None
    found: int
    page: int | None
    per_page: int
    hits: list[SearchHit]
    next_after: int | None


@strawberry.type
class SearchQuery:
    """Search's root query fields."""

    @field(graphql_type=SearchPage, description="Search the shop's listings (the REST API's query language).")
    async def search_listings(
        self,
        info: Info[GraphQLContext, None],
        *,
        query: str,
        page: int = 1,
        per_page: int = 20,
        after: int | None = None,
        correct: bool = True,
    ) -> SearchResults:
        """One page of the shop's listings matching ``query``."""
        context = context_of(info)
        return await service.search_listings(
            service.wired_search(context.platform),
            principal=context.caller,
            query=query,
            page=page,
            per_page=per_page,
            after=after,
            correct=correct,
        )


SCHEMA = SchemaPart(name="search", queries=(SearchQuery,))
"""Search's part of the gateway's schema."""
