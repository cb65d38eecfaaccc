"""Identity's part of the GraphQL schema: the caller's shop.

The caller acts in one shop (the credential's), so ``shop`` is that shop, read by
identity's ``get_me``, the REST API's ``/api/v1/me``.
"""

from __future__ import annotations

import datetime as dt
import uuid

import strawberry
from strawberry.types import Info

from folio.graphqlkit import GraphQLContext, SchemaPart, context_of, field
from folio.identity.me import get_me
from folio.identity.schemas import TenantRead

__all__ = ["SCHEMA", "Shop"]


@strawberry.type(description="A shop (a tenant).")
class Shop:
    """GraphQL's view of a ``TenantRead``."""

    id: uuid.UUID
    slug: str
    name: str
    plan: str
    created_at: dt.datetime


@strawberry.type
class IdentityQuery:
    """Identity's root query fields."""

    @field(graphql_type=Shop, description="The shop the caller acts in.")
    async def shop(self, info: Info[GraphQLContext, None]) -> TenantRead:
        """The caller's shop (``not-found`` when it no longer exists)."""
        context = context_of(info)
        me = await get_me(context.platform.database, principal=context.caller)
        return me.tenant


SCHEMA = SchemaPart(name="identity", queries=(IdentityQuery,))
"""Identity's part of the gateway's schema."""
