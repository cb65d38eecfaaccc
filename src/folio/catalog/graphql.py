"""The catalogue's part of the GraphQL schema: works and the shop's listings.

Resolvers call the catalogue's service functions, the REST API's, with the caller's
principal, so visibility is the service's: another shop's listing and another shop's
private work are not found. Two batch loaders are offered to the other parts by name:
``catalog.listing`` (the caller's shop's listings by id, one query per batch) and
``catalog.work`` (works by id, the ones the shop may see; one query per batch); an
order line reaches its listing and work through them.
"""

from __future__ import annotations

import datetime as dt
import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from folio.catalog import service
from folio.catalog.read_cache import CATALOG_READS
from folio.catalog.schemas import (
    Condition,
    ListingFilter,
    ListingRead,
    WorkFilter,
    WorkRead,
)
from folio.catalog.schemas import (
    ListingPage as ListingPageRead,
)
from folio.catalog.schemas import (
    WorkPage as WorkPageRead,
)
from folio.catalog.stock import listings_by_id
from folio.core.tenancy import tenant_scope
from folio.graphqlkit import GraphQLContext, SchemaPart, context_of, field

__all__ = ["LISTING_LOADER", "SCHEMA", "WORK_LOADER", "Listing", "Work"]

LISTING_LOADER = "catalog.listing"
"""The loader of the caller's shop's listings by id (``ListingRead`` or None)."""

WORK_LOADER = "catalog.work"
"""The loader of works by id (``WorkRead``, or None when missing or not visible to the shop)."""

ConditionEnum = strawberry.enum(Condition, name="Condition", description="The state of a copy for sale.")


@strawberry.type(description="A work (a book), shared by every shop once published.")
class Work:
    """GraphQL's view of a ``WorkRead``."""

    id: uuid.UUID
    isbn13: str | None
    title: str
    authors: list[str]
    publisher: str | None
    year: int | None
    subjects: list[str]
    language: str | None
    cover_url: str | None
    description: str | None
    has_preview: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


@strawberry.type(description="A shop's copies of a work for sale.")
class Listing:
    """GraphQL's view of a ``ListingRead``."""

    id: uuid.UUID
    work_id: uuid.UUID
    title: str
    authors: list[str]
    price_cents: int
    currency: str
    stock: int
    condition: ConditionEnum  # type: ignore[valid-type]  # strawberry.enum returns the enum class
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    @field(graphql_type=Work | None, description="The listed work.")
    async def work(self, info: Info[GraphQLContext, None]) -> WorkRead | None:
        """The work, through the request's work loader."""
        found: WorkRead | None = await context_of(info).load(WORK_LOADER, self.work_id)
        return found


@strawberry.type(description="One numbered page of works.")
class WorkPage:
    """GraphQL's view of a ``WorkPage``."""

    items: list[Work]
    total: int
    page: int
    per_page: int
    pages: int


@strawberry.type(description="One numbered page of the shop's listings, newest first.")
class ListingPage:
    """GraphQL's view of a ``ListingPage``."""

    items: list[Listing]
    total: int
    page: int
    per_page: int
    pages: int


async def load_listings(context: GraphQLContext, ids: list[uuid.UUID]) -> list[ListingRead | None]:
    """The caller's shop's listings among ``ids``, in their order (None: another shop's, or none)."""
    caller = context.caller

    async def work(session: AsyncSession) -> dict[uuid.UUID, ListingRead]:
        return await listings_by_id(session, ids)

    with tenant_scope(caller.tenant_id):
        found = await context.platform.database.run(work, readonly=True)
    return [found.get(listing_id) for listing_id in ids]


async def load_works(context: GraphQLContext, ids: list[uuid.UUID]) -> list[WorkRead | None]:
    """The works among ``ids`` the caller's shop may see, in their order (None: missing, or not visible)."""
    found = await service.get_visible_works(context.platform.database, principal=context.caller, work_ids=ids)
    return [found.get(work_id) for work_id in ids]


@strawberry.type
class CatalogQuery:
    """The catalogue's root query fields."""

    @field(graphql_type=Work, description="A work the shop may see.")
    async def work(self, info: Info[GraphQLContext, None], id: uuid.UUID) -> WorkRead:  # noqa: A002 - GraphQL's name
        """The work ``id`` (``not-found`` when the shop may not see it)."""
        context = context_of(info)
        return await service.get_work(
            context.platform.database,
            principal=context.caller,
            work_id=id,
            reads=context.platform.find(CATALOG_READS),
        )

    @field(graphql_type=WorkPage, description="The works the shop sees, by title.")
    async def works(
        self,
        info: Info[GraphQLContext, None],
        q: str | None = None,
        page: int = 1,
        per_page: int | None = None,
    ) -> WorkPageRead:
        """One page of works whose title contains ``q``."""
        context = context_of(info)
        return await service.list_works(
            context.platform.database,
            settings=context.platform.settings,
            principal=context.caller,
            filters=WorkFilter(q=q),
            page=page,
            per_page=per_page,
        )

    @field(graphql_type=Listing, description="One of the shop's listings.")
    async def listing(self, info: Info[GraphQLContext, None], id: uuid.UUID) -> ListingRead:  # noqa: A002 - GraphQL's name
        """The listing ``id`` (``not-found`` for another shop's)."""
        context = context_of(info)
        return await service.get_listing(
            context.platform.database,
            principal=context.caller,
            listing_id=id,
            reads=context.platform.find(CATALOG_READS),
        )

    @field(graphql_type=ListingPage, description="The shop's listings, newest first.")
    async def listings(
        self,
        info: Info[GraphQLContext, None],
        work_id: uuid.UUID | None = None,
        in_stock: bool | None = None,
        page: int = 1,
        per_page: int | None = None,
    ) -> ListingPageRead:
        """One page of the shop's listings, filtered by work and stock."""
        context = context_of(info)
        return await service.list_listings(
            context.platform.database,
            settings=context.platform.settings,
            principal=context.caller,
            filters=ListingFilter(work_id=work_id, in_stock=in_stock),
            page=page,
            per_page=per_page,
        )


SCHEMA = SchemaPart(
    name="catalog", queries=(CatalogQuery,), loaders={LISTING_LOADER: load_listings, WORK_LOADER: load_works}
)
"""The catalogue's part of the gateway's schema."""
