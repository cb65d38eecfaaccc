"""Building a Folio gRPC server: Folio's interceptor, health checking and reflection on every one.

``build_server`` returns a ``grpc.aio`` server with the services added, the standard
health service (``grpc.health.v1.Health``: each service SERVING once started) and server
reflection (so grpcurl lists and calls the services without their protos). ``GrpcServer``
runs one on a port and stops it gracefully: health says NOT_SERVING first, so a load
balancer stops sending calls, then calls in flight get ``grace_s`` to finish.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from folio.core.telemetry import grpc_server_interceptors
from folio.grpckit.credentials import ServiceCredentials
from folio.grpckit.interceptors import ServerInterceptor
from folio.grpckit.metrics import GrpcMetrics, process_metrics

__all__ = ["GrpcServer", "ServiceRegistration"]

_SERVER_OPTIONS = [
    # Two servers must never share a port silently (Linux's SO_REUSEPORT would let a
    # second `folio up` bind the first one's port and split its calls).
    ("grpc.so_reuseport", 0),
]


@dataclass(frozen=True)
class ServiceRegistration:
    """One service to serve: its full proto name, the generated ``add_..._to_server`` and its servicer."""

    name: str
    add_to_server: Callable[[Any, grpc.aio.Server], None]
    servicer: Any


class GrpcServer:
    """A ``grpc.aio`` server with Folio's interceptor, health and reflection (see the module docstring)."""

    def __init__(
        self,
        services: Sequence[ServiceRegistration],
        credentials: ServiceCredentials,
        *,
        metrics: GrpcMetrics | None = None,
        extra_interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    ) -> None:
        self.services = list(services)
        self.health = health.aio.HealthServicer()
        self.server = grpc.aio.server(
            interceptors=[
                # First, so the call's span (continuing the caller's traceparent) is current in Folio's.
                *grpc_server_interceptors(),
                ServerInterceptor(credentials, metrics=metrics or process_metrics()),
                *extra_interceptors,
            ],
            options=_SERVER_OPTIONS,
        )
        for service in self.services:
            service.add_to_server(service.servicer, self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        names = [service.name for service in self.services]
        reflection.enable_server_reflection(
            [*names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server
        )
        self.port: int | None = None

    async def start(self, address: str) -> int:
        """Bind ``address`` (``host:port``; port 0 picks one), start serving, mark every service SERVING.

        Returns the bound port. Raises ``RuntimeError`` when the address cannot be bound.
        """
        port: int = self.server.add_insecure_port(address)
        if port == 0:
            raise RuntimeError(f"cannot bind the gRPC server to {address}")
        await self.server.start()
        for name in ["", *(service.name for service in self.services)]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        self.port = port
        return port

    async def stop(self, grace_s: float = 5.0) -> None:
        """Say NOT_SERVING, then stop, letting calls in flight finish for ``grace_s``."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace_s)

    async def wait(self) -> None:
        """Until the server stops."""
        await self.server.wait_for_termination()
