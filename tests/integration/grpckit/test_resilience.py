"""Deadlines and retries between the services, over real gRPC and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import pytest

from folio.bootstrap import build_platform
from folio.core.db import Database
from folio.core.errors import ServiceUnavailableError
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.entrypoints.grpc import orders_server
from folio.grpckit import (
    DeadlineExceededError,
    GrpcServer,
    ServiceCredentials,
    ServiceRegistration,
    request_budget,
)
from folio.orders import api
from folio.orders.api import OrdersClient, OrderStatus
from folio.users.v1 import users_pb2, users_pb2_grpc
from tests.integration.grpckit.conftest import start_pair, stop_all, with_targets, without_redis
from tests.integration.orders.conftest import new_listing, new_shop

pytestmark = pytest.mark.integration


class SlowUsers(users_pb2_grpc.UsersServiceServicer):
    """A users service that takes ``delay_s`` to allow anything, and says when each answer ended."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.ended = asyncio.Event()

    async def Authorize(
        self, request: users_pb2.AuthorizeRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.AuthorizeResponse:
        """Allowed, as a customer, after the delay (or cancelled with the call)."""
        try:
            await asyncio.sleep(self.delay_s)
        finally:
            self.ended.set()
        return users_pb2.AuthorizeResponse(allowed=True, role=users_pb2.ROLE_CUSTOMER)

    async def GetUser(
        self, request: users_pb2.GetUserRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.GetUserResponse:
        """Not needed here."""
        raise NotImplementedError


@pytest.fixture
async def slow_orders(
    migrated_postgres: Settings, pg_database: Database
) -> AsyncIterator[tuple[OrdersClient, SlowUsers]]:
    """An orders server whose users service answers after a second; a client calling it."""
    settings = without_redis(migrated_postgres)
    slow = SlowUsers(delay_s=1.0)
    users = GrpcServer(
        [
            ServiceRegistration(
                "folio.users.v1.UsersService", users_pb2_grpc.add_UsersServiceServicer_to_server, slow
            )
        ],
        ServiceCredentials(settings.grpc, service="users"),
    )
    users_port = await users.start("127.0.0.1:0")
    wired = with_targets(settings, users=f"127.0.0.1:{users_port}")
    platform = build_platform(wired, database=pg_database)
    orders = orders_server(platform)
    port = await orders.start("127.0.0.1:0")
    client = OrdersClient(
        f"127.0.0.1:{port}", ServiceCredentials(wired.grpc, service="gateway"), default_timeout_s=5
    )
    try:
        yield client, slow
    finally:
        await stop_all([client, orders, users, platform])


async def test_no_database_write_happens_after_the_caller_gave_up(
    slow_orders: tuple[OrdersClient, SlowUsers], pg_database: Database, migrated_postgres: Settings
) -> None:
    """A checkout whose budget runs out while users deliberates fails with 504 and makes no order."""
    client, slow = slow_orders
    shop = await new_shop(pg_database, migrated_postgres)
    listing = await new_listing(pg_database, shop)
    await api.set_cart_item(pg_database, principal=shop.customer, listing_id=listing.id, quantity=1)

    with request_budget(0.3), pytest.raises(DeadlineExceededError) as gave_up:
        await client.place_order(principal=shop.customer, idempotency_key="too-slow")
    await asyncio.wait_for(slow.ended.wait(), timeout=5)  # the users call ended (cancelled with the deadline)
    await asyncio.sleep(0.2)  # room for a write that must not come

    assert gave_up.value.status == 504
    page = await api.list_orders(pg_database, settings=migrated_postgres, principal=shop.customer)
    cart = await api.get_cart(pg_database, principal=shop.customer)
    assert page.data == []
    assert [line.listing_id for line in cart.lines] == [listing.id]


async def test_a_spent_budget_makes_no_call() -> None:
    """With no time left the client refuses before sending: nothing starts that nobody waits for."""
    client = OrdersClient(
        "127.0.0.1:9", ServiceCredentials(Settings().grpc, service="gateway"), default_timeout_s=5
    )
    with request_budget(-1.0), pytest.raises(DeadlineExceededError):
        await client.get_order(principal=_anyone(), order_id=uuid.uuid4())
    await client.aclose()


def _anyone() -> Principal:
    return Principal(tenant_id=uuid.uuid4(), role=Role.CUSTOMER, user_id=uuid.uuid4(), via="token")


Behavior = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]


class UnavailableOnce(grpc.aio.ServerInterceptor):
    """Answers UNAVAILABLE to the first call of each named method: after doing its work, or instead of it."""

    def __init__(self, *, after_work: set[str], instead: set[str]) -> None:
        self.after_work = after_work
        self.instead = instead
        self.attempts: Counter[str] = Counter()

    async def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        """Wrap the named methods' handlers; others pass."""
        handler = await continuation(handler_call_details)
        name = handler_call_details.method.rsplit("/", 1)[1]
        if handler is None or name not in self.after_work | self.instead:
            return handler
        inner: Behavior = handler.unary_unary

        async def flaky(request: Any, context: grpc.aio.ServicerContext) -> Any:
            self.attempts[name] += 1
            if self.attempts[name] == 1:
                if name in self.after_work:
                    await inner(request, context)  # done, committed... and the answer is lost
                await context.abort(grpc.StatusCode.UNAVAILABLE, "injected: connection lost")
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            flaky,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


async def test_unavailable_is_retried_for_idempotent_methods_only(
    migrated_postgres: Settings, pg_database: Database
) -> None:
    """A create whose answer was lost is retried with its key (one order); a lost cancel is not retried."""
    flaky = UnavailableOnce(after_work={"CreateOrder"}, instead={"CancelOrder"})
    pair, parts = await start_pair(
        migrated_postgres, pg_database, orders_interceptors=[flaky], payments=False
    )
    try:
        shop = await new_shop(pg_database, pair.settings)
        listing = await new_listing(pg_database, shop, stock=5)
        await pair.orders.set_cart_item(principal=shop.customer, listing_id=listing.id, quantity=2)

        placed = await pair.orders.place_order(principal=shop.customer, idempotency_key="retried-create")
        with pytest.raises(ServiceUnavailableError):
            await pair.orders.cancel_order(principal=shop.customer, order_id=placed.id)
        page = await api.list_orders(pg_database, settings=pair.settings, principal=shop.customer)
    finally:
        await stop_all(parts)

    assert flaky.attempts == Counter({"CreateOrder": 2, "CancelOrder": 1})
    assert [order.id for order in page.data] == [placed.id]  # the retry made no second order
    assert page.data[0].status is OrderStatus.PENDING_PAYMENT  # the cancel never ran
