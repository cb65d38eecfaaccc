"""What an operator and a stranger see of the gRPC services: health, reflection, grpcurl, old clients."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pool, message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from tests.conftest import REPO_ROOT, uv_executable
from tests.integration.grpckit.conftest import Pair
from tests.integration.orders.conftest import new_listing, new_shop
from tests.support.grpcurl import ensure_grpcurl
from tests.support.scripts import load_script

pytestmark = pytest.mark.integration

ORDERS = "folio.orders.v1.OrdersService"


def _metadata(pair: Pair, shop_owner: object) -> list[tuple[str, str]]:
    credentials = pair.credentials("grpcurl")
    principal = shop_owner
    return [
        ("authorization", f"Bearer {credentials.service_token('orders')}"),
        (
            "x-folio-principal",
            credentials.caller_claims(
                "orders",
                tenant_id=principal.tenant_id,  # type: ignore[attr-defined]
                user_id=principal.user_id,  # type: ignore[attr-defined]
                api_key_id=None,
                via="token",
            ),
        ),
    ]


async def test_health_says_serving_for_each_service(grpc_pair: Pair) -> None:
    """The standard health service answers SERVING for the server and for OrdersService, with no token."""
    async with grpc.aio.insecure_channel(grpc_pair.orders_target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        overall = await stub.Check(health_pb2.HealthCheckRequest(service=""))
        orders = await stub.Check(health_pb2.HealthCheckRequest(service=ORDERS))
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))

    assert overall.status == orders.status == health_pb2.HealthCheckResponse.SERVING
    assert unknown.value.code() is grpc.StatusCode.NOT_FOUND


async def test_a_reflection_client_lists_and_calls_the_service(grpc_pair: Pair) -> None:
    """grpcio-reflection's own client finds OrdersService and calls GetCart from the descriptors alone."""
    shop = await new_shop(grpc_pair.db, grpc_pair.settings)
    metadata = _metadata(grpc_pair, shop.customer)

    def through_reflection() -> tuple[list[str], list[str], int]:
        with grpc.insecure_channel(grpc_pair.orders_target) as channel:
            database = ProtoReflectionDescriptorDatabase(channel)
            pool = descriptor_pool.DescriptorPool(database)
            service = pool.FindServiceByName(ORDERS)
            method = service.methods_by_name["GetCart"]
            request_type = message_factory.GetMessageClass(method.input_type)
            response_type = message_factory.GetMessageClass(method.output_type)
            call = channel.unary_unary(
                f"/{ORDERS}/GetCart",
                request_serializer=request_type.SerializeToString,
                response_deserializer=response_type.FromString,
            )
            answer = call(request_type(), metadata=metadata, timeout=5)
            return list(database.get_services()), [m.name for m in service.methods], len(answer.cart.lines)

    services, methods, lines = await asyncio.to_thread(through_reflection)

    assert ORDERS in services
    assert "grpc.health.v1.Health" in services
    assert {"CreateOrder", "ListOrders", "WatchOrder", "ConfirmPayment"} <= set(methods)
    assert lines == 0


async def test_grpcurl_lists_describes_and_calls_the_service(grpc_pair: Pair) -> None:
    """Grpcurl 1.8.6, knowing no proto, lists the services and calls GetCart through reflection."""
    grpcurl = await asyncio.to_thread(ensure_grpcurl, REPO_ROOT / ".folio" / "tools", uv_executable())
    shop = await new_shop(grpc_pair.db, grpc_pair.settings)
    listing = await new_listing(grpc_pair.db, shop, price=990)
    await grpc_pair.orders.set_cart_item(principal=shop.customer, listing_id=listing.id, quantity=3)
    headers = [
        arg for name, value in _metadata(grpc_pair, shop.customer) for arg in ("-H", f"{name}: {value}")
    ]

    async def grpcurl_says(*args: str) -> str:
        process = await asyncio.create_subprocess_exec(
            str(grpcurl), "-plaintext", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
        return out.decode()

    listed = await grpcurl_says(grpc_pair.orders_target, "list")
    described = await grpcurl_says(grpc_pair.orders_target, "describe", ORDERS)
    cart = json.loads(await grpcurl_says(*headers, "-d", "{}", grpc_pair.orders_target, f"{ORDERS}/GetCart"))

    assert ORDERS in listed.split()
    assert "rpc CreateOrder ( .folio.orders.v1.CreateOrderRequest )" in described
    assert cart["cart"]["total_minor"] == "2970"  # int64 is a string in protobuf's JSON
    assert cart["cart"]["lines"][0]["quantity"] == 3


OLD_CLIENT = textwrap.dedent(
    """
    import json, sys
    import grpc
    from google.protobuf import unknown_fields
    from folio.orders.v1 import orders_pb2, orders_pb2_grpc

    target, order_id, token, claims = sys.argv[1:5]
    with grpc.insecure_channel(target) as channel:
        stub = orders_pb2_grpc.OrdersServiceStub(channel)
        metadata = [("authorization", "Bearer " + token), ("x-folio-principal", claims)]
        request = orders_pb2.GetOrderRequest(order_id=order_id)
        order = stub.GetOrder(request, metadata=metadata, timeout=10).order
    print(json.dumps({
        "module": orders_pb2.__file__,
        "knows_reserved_until": "reserved_until" in orders_pb2.Order.DESCRIPTOR.fields_by_name,
        "id": order.id,
        "total_minor": order.total_minor,
        "status": orders_pb2.OrderStatus.Name(order.status),
        "unknown_fields": [field.field_number for field in unknown_fields.UnknownFieldSet(order)],
    }))
    """
)


async def test_a_client_built_from_the_last_release_talks_to_the_new_server(
    grpc_pair: Pair, tmp_path: Path
) -> None:
    """Stubs generated from proto/releases/v1.binpb (before reserved_until) read today's orders.

    The old client runs in its own process, importing only its own generated modules,
    and sees every field it knows; the added field travels as an unknown field it keeps.
    """
    shop = await new_shop(grpc_pair.db, grpc_pair.settings)
    listing = await new_listing(grpc_pair.db, shop, price=700)
    await grpc_pair.orders.set_cart_item(principal=shop.customer, listing_id=listing.id, quantity=2)
    placed = await grpc_pair.orders.place_order(principal=shop.customer, idempotency_key="old-client")
    assert placed.reserved_until is not None  # the field v1 does not know is set
    old = tmp_path / "old"
    await asyncio.to_thread(
        load_script("proto").generate, old, descriptor_set=REPO_ROOT / "proto" / "releases" / "v1.binpb"
    )
    for package in ("folio", "folio/orders", "folio/orders/v1"):
        (old / package / "__init__.py").touch()
    (old / "client.py").write_text(OLD_CLIENT)
    metadata = dict(_metadata(grpc_pair, shop.customer))
    token = metadata["authorization"].removeprefix("Bearer ")

    process = await asyncio.create_subprocess_exec(
        sys.executable, str(old / "client.py"), grpc_pair.orders_target, str(placed.id), token,
        metadata["x-folio-principal"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=old,
        env={**os.environ, "PYTHONPATH": str(old)},
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    seen = json.loads(out)

    assert seen["module"].startswith(str(old))
    assert seen["knows_reserved_until"] is False
    assert (seen["id"], seen["total_minor"], seen["status"]) == (
        str(placed.id),
        1400,
        "ORDER_STATUS_PENDING_PAYMENT",
    )
    assert seen["unknown_fields"] == [14]  # reserved_until, kept though not understood
