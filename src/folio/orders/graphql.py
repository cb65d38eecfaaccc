"""The orders' part of the GraphQL schema: orders with their lines, cancelling one, watching them.

Resolvers call the orders service, the REST API's, with the caller's principal: a
customer sees only their own orders, another shop's order is not found. A line's
``listing`` and ``work`` come from the catalogue's part through its loaders
(``catalog.listing``, ``catalog.work``), one query per batch however many lines ask;
their GraphQL types are the catalogue's, referred to lazily so this module imports no
other context's adapter.

Subscriptions read the shop's ``folio:orders:<tenant_id>`` channel (the live
dashboard's publisher): ``orderStatus`` follows one order the caller may see,
``orderUpdates`` every order of the shop (staff only).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import strawberry
from strawberry.types import Info
from strawberry.types.base import StrawberryOptional
from strawberry.types.lazy_type import LazyType

from folio.core.security import STAFF_ROLES, require_role
from folio.graphqlkit import GraphQLContext, SchemaPart, context_of, field, orders_channel, subscription
from folio.orders import service
from folio.orders.schemas import OrderPage as OrderPageRead
from folio.orders.schemas import OrderRead, OrderStatus

__all__ = ["SCHEMA", "Order", "OrderLine", "OrderStatusChange"]

# Names of the catalogue part's loaders and types: its contract, by name (see the module doc).
_LISTING_LOADER = "catalog.listing"
_WORK_LOADER = "catalog.work"
# strawberry resolves a LazyType when the schema is built; its stubs leave it out of
# what StrawberryOptional accepts.
CATALOG_LISTING = StrawberryOptional(cast("type", LazyType("Listing", "folio.catalog.graphql")))
CATALOG_WORK = StrawberryOptional(cast("type", LazyType("Work", "folio.catalog.graphql")))

OrderStatusEnum = strawberry.enum(OrderStatus, name="OrderStatus", description="Where an order stands.")


@strawberry.type(description="One line of an order, its price frozen at checkout.")
class OrderLine:
    """GraphQL's view of an ``OrderLineRead``."""

    listing_id: uuid.UUID
    work_id: uuid.UUID
    title: str
    quantity: int
    unit_price_minor: int
    currency: str
    line_total_minor: int

    @field(graphql_type=CATALOG_LISTING, description="The listing as it is now (null once deleted).")
    async def listing(self, info: Info[GraphQLContext, None]) -> Any:
        """The line's listing, through the request's listing loader."""
        return await context_of(info).load(_LISTING_LOADER, self.listing_id)

    @field(graphql_type=CATALOG_WORK, description="The work ordered.")
    async def work(self, info: Info[GraphQLContext, None]) -> Any:
        """The line's work, through the request's work loader."""
        return await context_of(info).load(_WORK_LOADER, self.work_id)


@strawberry.type(description="An order as its customer and the shop's staff see it.")
class Order:
    """GraphQL's view of an ``OrderRead``."""

    id: uuid.UUID
    customer_id: uuid.UUID | None
    status: OrderStatusEnum  # type: ignore[valid-type]  # strawberry.enum returns the enum class
    currency: str
    total_minor: int
    refunded_minor: int
    lines: list[OrderLine]
    payment_url: str | None
    reserved_until: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


@strawberry.type(description="One page of orders, newest first; pass `nextCursor` as `after`.")
class OrderPage:
    """GraphQL's view of an ``OrderPage``."""

    data: list[Order]
    next_cursor: str | None
    has_more: bool


@strawberry.type(description="An order changed status (from the shop's orders channel).")
class OrderStatusChange:
    """One message of ``folio:orders:<tenant_id>``."""

    order_id: uuid.UUID
    status: OrderStatusEnum  # type: ignore[valid-type]  # strawberry.enum returns the enum class
    version: int
    at: dt.datetime

    @classmethod
    def of(cls, message: dict[str, Any]) -> OrderStatusChange:
        """The change a channel message announces (``ValueError`` when it is not one)."""
        return cls(
            order_id=uuid.UUID(str(message["order_id"])),
            status=OrderStatus(message["status"]),
            version=int(message["version"]),
            at=dt.datetime.fromisoformat(str(message["at"])),
        )


@strawberry.type
class OrdersQuery:
    """The orders' root query fields."""

    @field(graphql_type=OrderPage, description="The shop's orders (a customer's: their own), newest first.")
    async def orders(
        self,
        info: Info[GraphQLContext, None],
        status: OrderStatusEnum | None = None,  # type: ignore[valid-type]  # strawberry.enum returns the enum class
        limit: int | None = None,
        after: str | None = None,
    ) -> OrderPageRead:
        """One page of orders, ``limit`` long, after the cursor ``after``."""
        context = context_of(info)
        return await service.list_orders(
            context.platform.database,
            settings=context.platform.settings,
            principal=context.caller,
            status=status,
            limit=limit,
            after=after,
        )

    @field(graphql_type=Order, description="One order the caller may see.")
    async def order(self, info: Info[GraphQLContext, None], id: uuid.UUID) -> OrderRead:  # noqa: A002 - GraphQL's name
        """The order ``id`` (``order-not-found`` when the caller may not see it)."""
        context = context_of(info)
        return await service.get_order(context.platform.database, principal=context.caller, order_id=id)


@strawberry.type
class OrdersMutation:
    """The orders' root mutation fields."""

    @field(graphql_type=Order, description="Cancel an unpaid order; its stock is released.")
    async def cancel_order(self, info: Info[GraphQLContext, None], id: uuid.UUID) -> OrderRead:  # noqa: A002 - GraphQL's name
        """Cancel the order ``id`` as the caller (the REST API's rules)."""
        context = context_of(info)
        return await service.cancel_order(context.platform.database, principal=context.caller, order_id=id)


async def _changes(context: GraphQLContext) -> AsyncIterator[OrderStatusChange]:
    async for message in context.channels.listen(orders_channel(context.caller.tenant_id)):
        try:
            yield OrderStatusChange.of(message)
        except (KeyError, ValueError):
            continue  # not the channel's contract: the publisher's bug, logged there


@strawberry.type
class OrdersSubscription:
    """The orders' subscription fields."""

    @subscription(graphql_type=OrderStatusChange, description="Each status change of one order.")
    async def order_status(
        self, info: Info[GraphQLContext, None], order_id: uuid.UUID
    ) -> AsyncIterator[OrderStatusChange]:
        """The changes of ``order_id``; ``order-not-found`` at once for an order the caller may not see."""
        context = context_of(info)
        await service.get_order(context.platform.database, principal=context.caller, order_id=order_id)
        async for change in _changes(context):
            if change.order_id == order_id:
                yield change

    @subscription(
        graphql_type=OrderStatusChange, description="Each status change of the shop's orders (staff)."
    )
    async def order_updates(self, info: Info[GraphQLContext, None]) -> AsyncIterator[OrderStatusChange]:
        """Every order change of the caller's shop; ``permission-denied`` for a customer."""
        context = context_of(info)
        require_role(context.caller, STAFF_ROLES, action="follow every order of the shop")
        async for change in _changes(context):
            yield change


SCHEMA = SchemaPart(
    name="orders", queries=(OrdersQuery,), mutations=(OrdersMutation,), subscriptions=(OrdersSubscription,)
)
"""The orders' part of the gateway's schema."""
