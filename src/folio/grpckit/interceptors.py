"""The interceptors every Folio gRPC server and client runs: one per side, in a fixed order of steps.

Server (``ServerInterceptor``), around each call:

1. the request context: the correlation id from ``x-request-id`` (or a fresh one), the
   trace id from ``traceparent``, bound into every log line of the call, exactly as the
   gateway does for HTTP (``folio.core.logging``);
2. the caller's deadline becomes the call's time budget (``folio.grpckit.deadlines``);
3. authentication: a valid service token addressed to this service, else
   UNAUTHENTICATED; the end user's signed claims when present (``current_caller``).
   Health checking and reflection are open, so probes and grpcurl need no token;
4. the handler; a ``FolioError`` it raises becomes its status code and a
   ``google.rpc.Status`` trailer (``folio.grpckit.errors``), anything else INTERNAL
   with the traceback in the log only;
5. one Prometheus observation per call (method, code) and one access log line.

Client (``ClientInterceptor``), around each call: the service token for the audience,
the correlation and trace ids of the current context, the deadline from the current
budget, and the client-side metrics.

Unary-unary and unary-stream calls are wrapped; streaming-request methods (server
reflection's) pass through untouched.
"""

from __future__ import annotations

import asyncio
import inspect
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from typing import Any

import grpc
import structlog

from folio.core.errors import FolioError, NotImplementedYetError
from folio.core.logging import correlation_id, request_context
from folio.core.logging.context import accept_correlation_id, trace_id_from
from folio.grpckit.credentials import (
    PRINCIPAL_METADATA_KEY,
    SERVICE_TOKEN_METADATA_KEY,
    CallerClaims,
    ServiceClaims,
    ServiceCredentials,
)
from folio.grpckit.deadlines import call_timeout, request_budget, time_remaining
from folio.grpckit.errors import status_code_for, status_details
from folio.grpckit.metrics import GrpcMetrics, split_method
from folio.grpckit.rich_status import STATUS_DETAILS_KEY

__all__ = [
    "OPEN_SERVICES",
    "REQUEST_ID_METADATA_KEY",
    "TRACEPARENT_METADATA_KEY",
    "ClientInterceptor",
    "ServerInterceptor",
    "StreamingClientInterceptor",
    "calling_service",
    "current_caller",
]

log = structlog.get_logger("folio.grpc")

REQUEST_ID_METADATA_KEY = "x-request-id"
TRACEPARENT_METADATA_KEY = "traceparent"
OPEN_SERVICES = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
    }
)
"""Services any client may call without a service token: health probes and reflection (grpcurl)."""

_caller: ContextVar[CallerClaims | None] = ContextVar("folio_grpc_caller", default=None)
_service: ContextVar[ServiceClaims | None] = ContextVar("folio_grpc_service", default=None)


def current_caller() -> CallerClaims | None:
    """The verified end user the current call is made for, or None (a service calling on its own)."""
    return _caller.get()


def calling_service() -> ServiceClaims | None:
    """The verified service token of the current call (None on an open method)."""
    return _service.get()


def _metadata_value(metadata: Iterable[tuple[str, str | bytes]] | None, key: str) -> str | None:
    for name, value in metadata or ():
        if name == key and isinstance(value, str):
            return value
    return None


class ServerInterceptor(grpc.aio.ServerInterceptor):
    """Context, deadline, authentication, errors, metrics and the access log of every call (see module)."""

    def __init__(self, credentials: ServiceCredentials, *, metrics: GrpcMetrics) -> None:
        self.credentials = credentials
        self.metrics = metrics
        # One wrapped handler per method, made on its first call: wrapping per call cost
        # as much as the rest of the interceptor (the metadata is read from the context).
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        """The handler of the call, wrapped (unary requests) or as it is (streaming requests)."""
        handler = await continuation(handler_call_details)
        if handler is None or handler.request_streaming:
            return handler
        method: str = handler_call_details.method
        known = self._wrapped.get(method)
        if known is not None and known[0] is handler:
            return known[1]
        open_method = split_method(method)[0] in OPEN_SERVICES
        behavior = handler.unary_unary or handler.unary_stream
        if inspect.isasyncgenfunction(behavior):
            wrapped: Any = self._streaming(behavior, method, open_method=open_method)
        else:
            wrapped = self._unary(behavior, method, open_method=open_method)
        make = (
            grpc.unary_unary_rpc_method_handler
            if handler.unary_unary
            else grpc.unary_stream_rpc_method_handler
        )
        made = make(
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
        self._wrapped[method] = (handler, made)
        return made

    def _unary(
        self, behavior: Any, method: str, *, open_method: bool
    ) -> Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]:
        async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            outcome = _Outcome()
            metadata = context.invocation_metadata()
            with self._call_context(metadata, context):
                try:
                    self._authenticate(metadata, open_method=open_method)
                    return await behavior(request, context)
                except BaseException as exc:
                    await self._fail(exc, context, outcome)
                    raise  # pragma: no cover - _fail raises
                finally:
                    self._record(method, context, outcome, started, open_method=open_method)

        return call

    def _streaming(
        self, behavior: Any, method: str, *, open_method: bool
    ) -> Callable[[Any, grpc.aio.ServicerContext], AsyncIterator[Any]]:
        async def call(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            started = time.perf_counter()
            outcome = _Outcome()
            metadata = context.invocation_metadata()
            with self._call_context(metadata, context):
                try:
                    self._authenticate(metadata, open_method=open_method)
                    async for response in behavior(request, context):
                        yield response
                except BaseException as exc:
                    await self._fail(exc, context, outcome)
                    raise  # pragma: no cover - _fail raises
                finally:
                    self._record(method, context, outcome, started, open_method=open_method)

        return call

    def _call_context(self, metadata: Any, context: grpc.aio.ServicerContext) -> ExitStack:
        """The log context, time budget and claims scope of one call, entered; the wrapper exits them."""
        correlation = accept_correlation_id(_metadata_value(metadata, REQUEST_ID_METADATA_KEY))
        trace_id = trace_id_from(_metadata_value(metadata, TRACEPARENT_METADATA_KEY))
        stack = ExitStack()
        stack.enter_context(request_context(correlation, trace_id))
        stack.enter_context(request_budget(context.time_remaining()))
        stack.enter_context(_claims_scope())
        return stack

    def _authenticate(self, metadata: Any, *, open_method: bool) -> None:
        if open_method:
            return
        _service.set(
            self.credentials.verify_service_token(_metadata_value(metadata, SERVICE_TOKEN_METADATA_KEY))
        )
        claims = _metadata_value(metadata, PRINCIPAL_METADATA_KEY)
        if claims is not None:
            caller = self.credentials.verify_caller_claims(claims)
            _caller.set(caller)
            structlog.contextvars.bind_contextvars(
                tenant_id=str(caller.tenant_id),
                **({"user_id": str(caller.user_id)} if caller.user_id else {}),
                **({"api_key_id": str(caller.api_key_id)} if caller.api_key_id else {}),
            )

    async def _fail(self, exc: BaseException, context: grpc.aio.ServicerContext, outcome: _Outcome) -> None:
        """Turn ``exc`` into the call's status (aborting it), or let gRPC's own outcomes through."""
        if isinstance(exc, asyncio.CancelledError):
            left = time_remaining()
            expired = left is not None and left <= 0
            outcome.code = (grpc.StatusCode.DEADLINE_EXCEEDED if expired else grpc.StatusCode.CANCELLED).name
            raise exc
        if isinstance(exc, grpc.aio.AbortError):  # the handler aborted with a status of its own
            outcome.code = (context.code() or grpc.StatusCode.UNKNOWN).name
            raise exc
        if isinstance(exc, FolioError):
            error = exc
        elif isinstance(exc, NotImplementedError):  # the generated base of a method the servicer lacks
            error = NotImplementedYetError("the service does not implement this method")
        elif isinstance(exc, Exception):
            log.error("grpc.unhandled_error", error_type=type(exc).__name__, exc_info=exc)
            error = FolioError()
        else:
            raise exc
        code = status_code_for(error)
        outcome.code = code.name
        outcome.error = error.code
        await context.abort(
            code,
            error.detail or error.title,
            trailing_metadata=((STATUS_DETAILS_KEY, status_details(error, code)),),
        )

    def _record(
        self,
        method: str,
        context: grpc.aio.ServicerContext,
        outcome: _Outcome,
        started: float,
        *,
        open_method: bool,
    ) -> None:
        elapsed = time.perf_counter() - started
        self.metrics.record("server", method, outcome.code, elapsed)
        service = calling_service()
        log.info(
            # Probes and reflection log under an event sampled down, like the gateway's health checks.
            "grpc.call.health" if open_method else "grpc.call",
            method=method,
            code=outcome.code,
            duration_ms=round(elapsed * 1000, 2),
            peer=context.peer(),
            caller_service=service.issuer if service else None,
            **({"error_code": outcome.error} if outcome.error else {}),
        )


class _Outcome:
    """How a call ended, filled in by the wrapper that saw it end."""

    __slots__ = ("code", "error")

    def __init__(self) -> None:
        self.code = grpc.StatusCode.OK.name
        self.error: str | None = None


@contextmanager
def _claims_scope() -> Iterator[None]:
    """Clears the call's service and caller claims when it ends."""
    tokens = (_service.set(None), _caller.set(None))
    try:
        yield
    finally:
        _service.reset(tokens[0])
        _caller.reset(tokens[1])


class ClientInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    """Adds the service token, correlation and trace ids and the deadline; records client metrics.

    gRPC files an interceptor under one kind of call only, so the unary-stream side is
    ``streaming()``, a second interceptor sharing this one's state: pass both to a channel.
    """

    def __init__(
        self,
        credentials: ServiceCredentials,
        *,
        audience: str,
        metrics: GrpcMetrics,
        default_timeout_s: float,
    ) -> None:
        self.credentials = credentials
        self.audience = audience
        self.metrics = metrics
        self.default_timeout_s = default_timeout_s
        self._counting: set[asyncio.Future[None]] = set()

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        metadata.add(SERVICE_TOKEN_METADATA_KEY, f"Bearer {self.credentials.service_token(self.audience)}")
        correlation = correlation_id()
        if correlation is not None:
            metadata.add(REQUEST_ID_METADATA_KEY, correlation)
        trace_id = structlog.contextvars.get_contextvars().get("trace_id")
        # With telemetry on, OpenTelemetry's interceptor has put its span's traceparent there already.
        if isinstance(trace_id, str) and TRACEPARENT_METADATA_KEY not in metadata:
            # A new span id for this hop, so the callee's spans hang below it.
            metadata.add(TRACEPARENT_METADATA_KEY, f"00-{trace_id}-{secrets.token_hex(8)}-01")
        # The call's own timeout stands unless a budget is shorter; without either, the default.
        if details.timeout is not None and time_remaining() is None:
            timeout = details.timeout
        else:
            budget = call_timeout(self.default_timeout_s)
            timeout = budget if details.timeout is None else min(details.timeout, budget)
        return grpc.aio.ClientCallDetails(
            details.method, timeout, metadata, details.credentials, details.wait_for_ready
        )

    @staticmethod
    def _method(details: grpc.aio.ClientCallDetails) -> str:
        method = details.method
        return method.decode() if isinstance(method, bytes) else str(method)

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        """Send the call with Folio's metadata and deadline; count it once it ends."""
        started = time.perf_counter()
        call = await continuation(self._details(client_call_details), request)
        code = await call.code()
        self.metrics.record(
            "client", self._method(client_call_details), code.name, time.perf_counter() - started
        )
        return call

    def streaming(self) -> StreamingClientInterceptor:
        """The unary-stream interceptor doing the same for server-streaming calls."""
        return StreamingClientInterceptor(self)

    async def open_stream(
        self, continuation: Callable[..., Any], client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        """Open the stream with Folio's metadata and deadline; count it when it ends."""
        started = time.perf_counter()
        call = await continuation(self._details(client_call_details), request)
        method = self._method(client_call_details)

        async def count(done: Any) -> None:
            code = await done.code()  # the call is over: answers at once
            self.metrics.record("client", method, code.name, time.perf_counter() - started)

        def ended(done: Any) -> None:
            task = asyncio.ensure_future(count(done))
            self._counting.add(task)  # held until it ran: the loop keeps only weak references
            task.add_done_callback(self._counting.discard)

        call.add_done_callback(ended)
        return call


class StreamingClientInterceptor(grpc.aio.UnaryStreamClientInterceptor):
    """The unary-stream side of a ``ClientInterceptor`` (see ``ClientInterceptor.streaming``)."""

    def __init__(self, unary: ClientInterceptor) -> None:
        self.unary = unary

    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        """Open the stream with Folio's metadata and deadline; count it when it ends."""
        return await self.unary.open_stream(continuation, client_call_details, request)
