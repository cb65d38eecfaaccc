"""The users and orders services together, over real gRPC and PostgreSQL: what the gateway relies on."""

from __future__ import annotations

import uuid

import grpc
import pytest

from folio.core.errors import (
    AuthenticationRequiredError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailedError,
)
from folio.core.security import Role
from folio.grpckit.rich_status import STATUS_DETAILS_KEY, decode_status
from folio.identity.api import ApiKeyCreate, create_api_key, remove_member, revoke_api_key
from folio.orders.api import IllegalTransitionError, OrderNotFoundError, OrderStatus
from folio.orders.v1 import orders_pb2, orders_pb2_grpc
from tests.integration.grpckit.conftest import Pair
from tests.integration.orders.conftest import new_listing, new_shop

pytestmark = pytest.mark.integration


async def test_a_customer_orders_and_staff_move_the_order_through_both_services(grpc_pair: Pair) -> None:
    """Cart, checkout, reads and a staff move go through orders, each call authorised by users."""
    shop = await new_shop(grpc_pair.db, grpc_pair.settings)
    listing = await new_listing(grpc_pair.db, shop, price=1250, stock=3)
    orders = grpc_pair.orders

    cart = await orders.set_cart_item(principal=shop.customer, listing_id=listing.id, quantity=2)
    assert (cart.total_minor, cart.currency) == (2500, "EUR")
    placed = await orders.place_order(principal=shop.customer, idempotency_key="checkout-1")
    again = await orders.place_order(principal=shop.customer, idempotency_key="checkout-1")
    page = await orders.list_orders(principal=shop.staff, limit=10)
    seen = await orders.get_order(principal=shop.customer, order_id=placed.id)

    assert placed.status is OrderStatus.PENDING_PAYMENT
    assert placed.total_minor == 2500
    assert placed.reserved_until is not None
    assert again.id == placed.id
    assert [order.id for order in page.data] == [placed.id]
    assert seen == placed
    assert (await orders.get_cart(principal=shop.customer)).lines == []
    with pytest.raises(IllegalTransitionError) as refused:  # unpaid: not packable
        await orders.advance_order(principal=shop.staff, order_id=placed.id, to=OrderStatus.PACKED)
    assert refused.value.status == 409
    paid = await orders.confirm_payment(
        tenant_id=shop.tenant_id, order_id=placed.id, payment_reference="cs_1"
    )
    packed = await orders.advance_order(principal=shop.staff, order_id=placed.id, to=OrderStatus.PACKED)
    assert (paid.status, packed.status) == (OrderStatus.PAID, OrderStatus.PACKED)


async def test_the_role_comes_from_the_users_service_not_from_the_caller(grpc_pair: Pair) -> None:
    """A customer may not fulfil, and a member removed a moment ago is refused at once."""
    shop = await new_shop(grpc_pair.db, grpc_pair.settings)
    listing = await new_listing(grpc_pair.db, shop)
    orders = grpc_pair.orders
    await orders.set_cart_item(principal=shop.customer, listing_id=listing.id, quantity=1)
    placed = await orders.place_order(principal=shop.customer, idempotency_key=uuid.uuid4().hex)
    # The gateway's claims say "staff"? They cannot: claims carry who, and users answers the role.
    pretending = shop.customer.model_copy(update={"role": Role.STAFF})

    with pytest.raises(PermissionDeniedError, match=r"customer role may not orders\.fulfil"):
        await orders.advance_order(principal=pretending, order_id=placed.id, to=OrderStatus.PACKED)
    await remove_member(grpc_pair.db, principal=shop.owner, user_id=shop.staff.user_id)  # type: ignore[arg-type]
    with pytest.raises(PermissionDeniedError, match="not a member"):
        await orders.get_order(principal=shop.staff, order_id=placed.id)


async def test_another_shops_order_is_not_found(grpc_pair: Pair) -> None:
    """An order of another shop answers NOT_FOUND, rebuilt as the orders context's own error."""
    shop = await new_shop(grpc_pair.db, grpc_pair.settings)
    other = await new_shop(grpc_pair.db, grpc_pair.settings)
    listing = await new_listing(grpc_pair.db, shop)
    await grpc_pair.orders.set_cart_item(principal=shop.customer, listing_id=listing.id, quantity=1)
    placed = await grpc_pair.orders.place_order(principal=shop.customer, idempotency_key="k")

    with pytest.raises(OrderNotFoundError) as missing:
        await grpc_pair.orders.get_order(principal=other.owner, order_id=placed.id)
    assert (missing.value.code, missing.value.status) == ("order-not-found", 404)


async def test_a_failed_call_carries_google_rpc_status_details(grpc_pair: Pair) -> None:
    """A raw gRPC client sees NOT_FOUND with a google.rpc.Status whose ErrorInfo names the problem."""
    shop = await new_shop(grpc_pair.db, grpc_pair.settings)
    credentials = grpc_pair.credentials()
    metadata = (
        ("authorization", f"Bearer {credentials.service_token('orders')}"),
        ("x-folio-principal", credentials.caller_claims(
            "orders", tenant_id=shop.tenant_id, user_id=shop.owner.user_id, api_key_id=None, via="token"
        )),
    )  # fmt: skip
    async with grpc.aio.insecure_channel(grpc_pair.orders_target) as channel:
        stub = orders_pb2_grpc.OrdersServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await stub.GetOrder(orders_pb2.GetOrderRequest(order_id=str(uuid.uuid4())), metadata=metadata)
        with pytest.raises(grpc.aio.AioRpcError) as malformed:
            await stub.GetOrder(orders_pb2.GetOrderRequest(order_id="nope"), metadata=metadata)

    assert failed.value.code() is grpc.StatusCode.NOT_FOUND
    details = dict(failed.value.trailing_metadata())[STATUS_DETAILS_KEY]
    code, _, reason, info = decode_status(details)
    assert (code, reason, info["status"]) == (grpc.StatusCode.NOT_FOUND.value[0], "order-not-found", "404")
    assert malformed.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_calls_without_valid_service_credentials_are_unauthenticated(grpc_pair: Pair) -> None:
    """No token, a token for another service, or user claims alone: UNAUTHENTICATED, before any work."""
    credentials = grpc_pair.credentials()
    attempts = [
        (),
        (("authorization", f"Bearer {credentials.service_token('users')}"),),
        (("authorization", "Bearer not-a-token"),),
    ]
    async with grpc.aio.insecure_channel(grpc_pair.orders_target) as channel:
        stub = orders_pb2_grpc.OrdersServiceStub(channel)
        codes = []
        for metadata in attempts:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.GetCart(orders_pb2.GetCartRequest(), metadata=metadata)
            codes.append(refused.value.code())
        # A valid service token but no end user: orders needs to know for whom.
        with pytest.raises(grpc.aio.AioRpcError) as anonymous:
            await stub.GetCart(
                orders_pb2.GetCartRequest(),
                metadata=(("authorization", f"Bearer {credentials.service_token('orders')}"),),
            )

    assert codes == [grpc.StatusCode.UNAUTHENTICATED] * 3
    assert anonymous.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_confirm_payment_is_refused_when_made_for_a_user(grpc_pair: Pair) -> None:
    """ConfirmPayment is a service's own call (one made for a user is refused); its reference is required."""
    shop = await new_shop(grpc_pair.db, grpc_pair.settings)
    client = grpc_pair.orders
    request = orders_pb2.ConfirmPaymentRequest(
        tenant_id=str(shop.tenant_id), order_id=str(uuid.uuid4()), payment_reference="cs_x"
    )

    with pytest.raises(PermissionDeniedError, match="not by a user"):
        await client.unary(client._stub.ConfirmPayment, request, principal=shop.owner)
    with pytest.raises(OrderNotFoundError):  # as a service, the call goes through
        await client.confirm_payment(
            tenant_id=shop.tenant_id, order_id=uuid.uuid4(), payment_reference="cs_x"
        )
    with pytest.raises(ValidationFailedError) as blank:
        await client.confirm_payment(tenant_id=shop.tenant_id, order_id=uuid.uuid4(), payment_reference=" ")
    assert [error.name for error in blank.value.to_problem().errors or []] == ["payment_reference"]


async def test_a_watch_streams_each_new_version(grpc_pair: Pair) -> None:
    """WatchOrder yields the order at once, then its next version after a change."""
    shop = await new_shop(grpc_pair.db, grpc_pair.settings)
    listing = await new_listing(grpc_pair.db, shop)
    orders = grpc_pair.orders
    await orders.set_cart_item(principal=shop.customer, listing_id=listing.id, quantity=1)
    placed = await orders.place_order(principal=shop.customer, idempotency_key="w")

    seen = []
    async for order in orders.watch_order(principal=shop.customer, order_id=placed.id):
        seen.append(order.status)
        if len(seen) == 1:
            await orders.cancel_order(principal=shop.customer, order_id=placed.id)
    assert seen == [OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED]  # cancelled is final: the stream ends


async def test_the_servers_count_calls_per_method_and_code(grpc_pair: Pair) -> None:
    """Each call is one sample of folio_grpc_server_handled_total under its method and code."""
    shop = await new_shop(grpc_pair.db, grpc_pair.settings)
    await grpc_pair.orders.get_cart(principal=shop.customer)
    with pytest.raises(AuthenticationRequiredError):
        await grpc_pair.orders.get_cart(principal=None)  # type: ignore[arg-type]

    registry = grpc_pair.metrics.registry
    labels = {"grpc_service": "folio.orders.v1.OrdersService", "grpc_method": "GetCart"}
    assert registry.get_sample_value("folio_grpc_server_handled_total", {**labels, "grpc_code": "OK"}) == 1
    assert (
        registry.get_sample_value(
            "folio_grpc_server_handled_total", {**labels, "grpc_code": "UNAUTHENTICATED"}
        )
        == 1
    )
    authorize = {"grpc_service": "folio.users.v1.UsersService", "grpc_method": "Authorize", "grpc_code": "OK"}
    assert registry.get_sample_value("folio_grpc_server_handled_total", authorize) == 1


async def test_users_authorises_api_keys_by_their_current_state(grpc_pair: Pair) -> None:
    """A live staff key may fulfil, a revoked one may not; an unknown action is INVALID_ARGUMENT."""
    shop = await new_shop(grpc_pair.db, grpc_pair.settings)
    issued = await create_api_key(
        grpc_pair.db, principal=shop.owner, data=ApiKeyCreate(name="pos", role=Role.STAFF)
    )
    users = grpc_pair.users

    live = await users.authorize(tenant_id=shop.tenant_id, api_key_id=issued.id, action="orders.fulfil")
    await revoke_api_key(grpc_pair.db, principal=shop.owner, key_id=issued.id)
    revoked = await users.authorize(tenant_id=shop.tenant_id, api_key_id=issued.id, action="orders.read")
    with pytest.raises(ValidationFailedError, match="unknown action"):
        await users.authorize(tenant_id=shop.tenant_id, api_key_id=issued.id, action="orders.steal")
    owner = await users.get_user(shop.owner.user_id)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        await users.get_user(uuid.uuid4())

    assert (live.allowed, live.role) == (True, Role.STAFF)
    assert (revoked.allowed, revoked.role, revoked.reason) == (
        False,
        None,
        "no such live API key in this shop",
    )
    assert owner.id == shop.owner.user_id
