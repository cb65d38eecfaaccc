"""Folio's interceptors end to end on a real server: ids, deadlines, the access log, health left open."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
import structlog
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import CollectorRegistry

from folio.core.errors import NotImplementedYetError
from folio.core.logging import request_context
from folio.core.settings import Settings
from folio.grpckit import (
    GrpcMetrics,
    GrpcServer,
    ServiceCredentials,
    ServiceRegistration,
    request_budget,
    time_remaining,
)
from folio.users.api import UsersClient
from folio.users.v1 import users_pb2, users_pb2_grpc

pytestmark = pytest.mark.integration

SLACK_S = 0.05


class Echo(users_pb2_grpc.UsersServiceServicer):
    """Answers GetUser with what the call's context held: its correlation id, trace id and time left."""

    async def GetUser(
        self, request: users_pb2.GetUserRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.GetUserResponse:
        """The context, in the user's fields (email: correlation id, display name: trace id and budget)."""
        bound = structlog.contextvars.get_contextvars()
        left = time_remaining()
        return users_pb2.GetUserResponse(
            user=users_pb2.User(
                id=request.user_id,
                email=str(bound.get("correlation_id")),
                display_name=f"{bound.get('trace_id')} {left if left is None else round(left, 3)}",
            )
        )

    async def Authorize(
        self, request: users_pb2.AuthorizeRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.AuthorizeResponse:
        """Not implemented, as the generated base says of every method a servicer leaves out."""
        raise NotImplementedError


@pytest.fixture
async def echo() -> AsyncIterator[tuple[UsersClient, GrpcMetrics, int]]:
    """An Echo users server on an ephemeral port and a client of it."""
    settings = Settings().grpc
    metrics = GrpcMetrics(CollectorRegistry())
    server = GrpcServer(
        [
            ServiceRegistration(
                "folio.users.v1.UsersService", users_pb2_grpc.add_UsersServiceServicer_to_server, Echo()
            )
        ],
        ServiceCredentials(settings, service="users"),
        metrics=metrics,
    )
    port = await server.start("127.0.0.1:0")
    client = UsersClient(
        f"127.0.0.1:{port}", ServiceCredentials(settings, service="orders"), default_timeout_s=5
    )
    try:
        yield client, metrics, port
    finally:
        await client.aclose()
        await server.stop(0)


async def test_the_callers_ids_and_remaining_budget_reach_the_server(
    echo: tuple[UsersClient, GrpcMetrics, int],
) -> None:
    """The correlation id and trace id of the calling context, and its remaining budget as the deadline."""
    client, _, _ = echo
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"

    with request_context("req-42", trace), request_budget(2.0):
        user = await client.get_user(uuid.uuid4())
    outside = await client.get_user(uuid.uuid4())

    assert user.email == "req-42"
    seen_trace, seen_left = user.display_name.split()
    assert seen_trace == trace
    # The deadline crosses as a rounded-up timeout header: a few milliseconds of slack.
    assert 0 < float(seen_left) <= 2.0 + SLACK_S
    assert 2.0 + SLACK_S < float(outside.display_name.split()[1]) <= 5.0 + SLACK_S  # the client's default
    assert outside.email != "req-42"  # a fresh id per call outside any request


async def test_every_call_writes_one_access_line(echo: tuple[UsersClient, GrpcMetrics, int]) -> None:
    """One grpc.call line per call, with method, code, duration and the calling service."""
    client, _, _ = echo
    with structlog.testing.capture_logs() as lines:
        await client.get_user(uuid.uuid4())

    calls = [line for line in lines if line["event"] == "grpc.call"]
    assert len(calls) == 1
    assert calls[0]["method"] == "/folio.users.v1.UsersService/GetUser"
    assert calls[0]["code"] == "OK"
    assert calls[0]["caller_service"] == "orders"
    assert calls[0]["duration_ms"] >= 0


async def test_unimplemented_methods_and_open_health_are_counted(
    echo: tuple[UsersClient, GrpcMetrics, int],
) -> None:
    """A method the servicer does not implement answers UNIMPLEMENTED (counted); health needs no token."""
    client, metrics, port = echo

    with pytest.raises(NotImplementedYetError):
        await client.authorize(tenant_id=uuid.uuid4(), user_id=uuid.uuid4(), action="orders.read")

    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        answer = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())

    assert answer.status == health_pb2.HealthCheckResponse.SERVING
    labels = {
        "grpc_service": "folio.users.v1.UsersService",
        "grpc_method": "Authorize",
        "grpc_code": "UNIMPLEMENTED",
    }
    assert metrics.registry.get_sample_value("folio_grpc_server_handled_total", labels) == 1
    health = {"grpc_service": "grpc.health.v1.Health", "grpc_method": "Check", "grpc_code": "OK"}
    assert metrics.registry.get_sample_value("folio_grpc_server_handled_total", health) == 1
