"""The gRPC server processes: ``python -m folio.entrypoints.grpc users|orders``.

Each assembles one service on the platform bootstrap wires (``users_server``,
``orders_server``: tests serve these in-process on ephemeral ports) and ``serve`` runs
it: the gRPC port, Prometheus ``/metrics`` on the service's ``metrics_port`` (scraped
through the ``folio`` job's file discovery), graceful stop on SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from typing import Literal

import grpc
import structlog
from prometheus_client import start_http_server

from folio.bootstrap import Platform, build_platform
from folio.core.settings import Settings
from folio.core.settings.grpc import GrpcServiceSettings
from folio.grpckit import GrpcMetrics, GrpcServer, ServiceCredentials
from folio.orders import grpc as orders_grpc
from folio.orders.api import PAYMENT_PROVIDER
from folio.users import grpc as users_grpc
from folio.users.api import USERS_CLIENT

__all__ = ["SERVICES", "ServiceName", "orders_server", "serve", "users_server"]

log = structlog.get_logger(__name__)

ServiceName = Literal["users", "orders"]
SERVICES: tuple[ServiceName, ...] = ("users", "orders")
STOP_GRACE_S = 5.0


def users_server(platform: Platform, *, metrics: GrpcMetrics | None = None) -> GrpcServer:
    """The users service over the platform's database."""
    return GrpcServer(
        [users_grpc.registration(platform.database)],
        ServiceCredentials(platform.settings.grpc, service="users"),
        metrics=metrics,
    )


def orders_server(
    platform: Platform,
    *,
    metrics: GrpcMetrics | None = None,
    extra_interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    payments: bool = True,
) -> GrpcServer:
    """The orders service over the platform's database, authorising through its users client.

    ``extra_interceptors`` run inside Folio's own (tests inject faults there). Without
    ``payments`` no payment is opened for a new order (it stays unpaid): for a pair that
    has no payments surface to call.
    """
    provider = platform.find(PAYMENT_PROVIDER) if payments else None
    service = orders_grpc.registration(
        platform.database, platform.settings, platform.get(USERS_CLIENT), provider
    )
    return GrpcServer(
        [service],
        ServiceCredentials(platform.settings.grpc, service="orders"),
        metrics=metrics,
        extra_interceptors=extra_interceptors,
    )


def _endpoint(settings: Settings, name: ServiceName) -> GrpcServiceSettings:
    return settings.grpc.users if name == "users" else settings.grpc.orders


async def serve(settings: Settings, name: ServiceName) -> None:
    """Serve ``name`` until SIGTERM or SIGINT, then stop gracefully and close the platform."""
    endpoint = _endpoint(settings, name)
    platform = build_platform(settings)
    server = users_server(platform) if name == "users" else orders_server(platform)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    metrics_server, metrics_thread = start_http_server(endpoint.metrics_port, addr=endpoint.host)
    try:
        port = await server.start(f"{endpoint.host}:{endpoint.port}")
        log.info("grpc.serving", service=name, port=port, metrics_port=endpoint.metrics_port)
        await stop.wait()
        log.info("grpc.stopping", service=name)
        await server.stop(STOP_GRACE_S)
    finally:
        metrics_server.shutdown()
        metrics_thread.join(timeout=5)
        await platform.aclose()
