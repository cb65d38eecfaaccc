"""What every typed gRPC client of Folio shares: the channel, its retry policy, the caller's metadata.

A context's client (``folio.orders.api.OrdersClient``, ``folio.users.api.UsersClient``)
subclasses ``ServiceClient`` and adds one typed method per RPC, turning DTOs into
requests and responses back into DTOs; every call goes through ``unary`` (or
``stream``), which adds the end user's signed claims and raises a failed call's
``FolioError`` again (``folio.grpckit.errors``).

The channel is made on first use, on the running event loop (a gRPC channel belongs
to the loop it was made on), so bootstrap can build clients before any loop runs.
Retries are gRPC's own, from the service config: only ``UNAVAILABLE`` is retried, with
exponential backoff, and only for the methods a client names idempotent.

``check_serving`` asks the server's standard health service (``grpc.health.v1``) about
the client's service, once, with a short deadline: a readiness check for the processes
that call it (the gateway's ``/readyz``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from folio.core.errors import ServiceUnavailableError
from folio.core.security import Principal
from folio.core.telemetry import grpc_client_interceptors
from folio.grpckit.credentials import PRINCIPAL_METADATA_KEY, ServiceCredentials
from folio.grpckit.errors import error_from_rpc
from folio.grpckit.interceptors import ClientInterceptor
from folio.grpckit.metrics import GrpcMetrics, process_metrics

__all__ = ["RetryPolicy", "ServiceClient", "service_config"]

ResponseT = TypeVar("ResponseT")


class RetryPolicy:
    """gRPC's ``retryPolicy``: attempts and backoff for ``UNAVAILABLE``."""

    def __init__(
        self,
        *,
        max_attempts: int = 4,
        initial_backoff_s: float = 0.05,
        max_backoff_s: float = 1.0,
        multiplier: float = 2.0,
    ) -> None:
        if not 2 <= max_attempts <= 5:  # noqa: PLR2004 - gRPC caps attempts at 5
            raise ValueError("a retry policy makes 2 to 5 attempts")
        self.max_attempts = max_attempts
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s
        self.multiplier = multiplier

    def as_config(self) -> dict[str, Any]:
        """The ``retryPolicy`` object of a service config."""
        return {
            "maxAttempts": self.max_attempts,
            "initialBackoff": f"{self.initial_backoff_s}s",
            "maxBackoff": f"{self.max_backoff_s}s",
            "backoffMultiplier": self.multiplier,
            "retryableStatusCodes": ["UNAVAILABLE"],
        }


def service_config(service: str, idempotent: Iterable[str], retry: RetryPolicy) -> str:
    """The JSON service config retrying ``idempotent`` methods of ``service`` (full name) on UNAVAILABLE."""
    names = [{"service": service, "method": method} for method in sorted(idempotent)]
    config: dict[str, Any] = {
        "methodConfig": [{"name": names, "retryPolicy": retry.as_config()}] if names else []
    }
    return json.dumps(config)


class ServiceClient:
    """Base of a typed client of one Folio gRPC service (see the module docstring)."""

    service_name: str = ""
    """The service's full proto name (``folio.orders.v1.OrdersService``); subclasses set it."""
    audience: str = ""
    """The service's name in tokens (``orders``); subclasses set it."""
    idempotent_methods: frozenset[str] = frozenset()
    """Methods gRPC may retry on UNAVAILABLE: a second attempt changes nothing the first did."""

    def __init__(
        self,
        target: str,
        credentials: ServiceCredentials,
        *,
        default_timeout_s: float,
        retry: RetryPolicy | None = None,
        metrics: GrpcMetrics | None = None,
        options: Iterable[tuple[str, Any]] = (),
    ) -> None:
        self.target = target
        self.credentials = credentials
        self._interceptor = ClientInterceptor(
            credentials,
            audience=self.audience,
            metrics=metrics or process_metrics(),
            default_timeout_s=default_timeout_s,
        )
        self._options = [
            ("grpc.enable_retries", 1),
            (
                "grpc.service_config",
                service_config(self.service_name, self.idempotent_methods, retry or RetryPolicy()),
            ),
            *options,
        ]
        self._channel: grpc.aio.Channel | None = None

    @property
    def channel(self) -> grpc.aio.Channel:
        """The channel, made on first use (on the running loop)."""
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(
                self.target,
                options=self._options,
                # OpenTelemetry's first: its span's traceparent is in the metadata Folio's then sees.
                interceptors=[*grpc_client_interceptors(), self._interceptor, self._interceptor.streaming()],
            )
        return self._channel

    async def check_serving(self, *, timeout_s: float) -> None:
        """Raise unless the server's health service says this service is SERVING within ``timeout_s``.

        A readiness check: one try (the health service is not in the retry policy), so a
        server that is down fails it at once (``ServiceUnavailableError``) and one that
        does not answer fails it at the deadline; a server shutting down answers
        NOT_SERVING, which fails it too.
        """
        stub = health_pb2_grpc.HealthStub(self.channel)
        request = health_pb2.HealthCheckRequest(service=self.service_name)
        try:
            answer = await stub.Check(request, timeout=timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise error_from_rpc(exc.code(), exc.details(), exc.trailing_metadata()) from None
        if answer.status != health_pb2.HealthCheckResponse.SERVING:
            state = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
            raise ServiceUnavailableError(f"{self.service_name} at {self.target} is {state}")

    async def aclose(self) -> None:
        """Close the channel (calls in flight are cancelled); the next call opens a new one."""
        channel, self._channel = self._channel, None
        if channel is not None:
            await channel.close()

    def metadata(self, principal: Principal | None) -> tuple[tuple[str, str], ...]:
        """The end user's signed claims for a call made for ``principal`` (none for a service's own call)."""
        if principal is None:
            return ()
        claims = self.credentials.caller_claims(
            self.audience,
            tenant_id=principal.tenant_id,
            user_id=principal.user_id,
            api_key_id=principal.api_key_id,
            via=principal.via,
        )
        return ((PRINCIPAL_METADATA_KEY, claims),)

    async def unary(
        self, method: Callable[..., Awaitable[Any]], request: Any, *, principal: Principal | None
    ) -> Any:
        """Call the stub's unary ``method``; a failed call raises its ``FolioError``."""
        try:
            return await method(request, metadata=self.metadata(principal))
        except grpc.aio.AioRpcError as exc:
            raise error_from_rpc(exc.code(), exc.details(), exc.trailing_metadata()) from None

    async def stream(
        self, method: Callable[..., Any], request: Any, *, principal: Principal | None
    ) -> AsyncIterator[Any]:
        """Iterate the stub's server-streaming ``method``; a failed call raises its ``FolioError``.

        Leaving the iteration early cancels the call.
        """
        call = method(request, metadata=self.metadata(principal))
        try:
            async for response in call:
                yield response
        except grpc.aio.AioRpcError as exc:
            raise error_from_rpc(exc.code(), exc.details(), exc.trailing_metadata()) from None
        finally:
            call.cancel()
