"""OpenTelemetry in every Folio process: the SDK's setup, and trace context carried across hops.

Key contracts:

- ``start_telemetry`` is called once by each entry point after ``configure_logging``. With
  ``telemetry.enabled`` off it does nothing at all (no provider, no exporter, no patched
  library), so the API's no-op tracer answers every span and the helpers below do nothing.
  On, spans go in batches (``BatchSpanProcessor``) to ``<telemetry.endpoint>/v1/traces``
  over OTLP/HTTP with a short timeout: a receiver that is down costs a dropped batch, never
  a blocked request.
- The libraries a process names are instrumented with OpenTelemetry's maintained
  instrumentations, imported only then (a worker never loads FastAPI's); HTTP servers are
  instrumented where the app is built (``instrument_fastapi``), gRPC servers and channels by
  grpckit (``grpc_server_interceptors``, ``grpc_client_interceptors``), engines by
  ``folio.core.db`` (``instrument_engine``).
- HTTP and gRPC carry W3C ``traceparent`` through the instrumentations. RabbitMQ message
  headers and Kafka record headers carry it through ``inject_context`` on publish and
  ``traced_consume`` on consume (a consumer span parented to the producer's). The outbox
  row keeps the writing request's ``traceparent`` (``current_traceparent``), so the relay's
  later publish continues that request's trace (``traced_publish``). A batch of items from
  several traces (Kafka records, outbox rows) is one consumer span below the first item's
  trace, with a receive span in each other one (``traced_batch``).
- A process started with ``TRACEPARENT`` in its environment (the W3C value; what the Prefect
  flow gives the ``folio`` commands its tasks run) continues that trace: ``start_telemetry``
  makes it the parent of the spans the process begins without another parent.
- ``add_trace_id`` (a structlog processor in every process's chain) writes the current
  span's trace id into each log line, so a line links to its trace.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import Token
from typing import TYPE_CHECKING, Any, Literal

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from folio.core.settings.telemetry import TelemetrySettings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = [
    "TRACEPARENT",
    "TRACEPARENT_ENV",
    "Library",
    "Span",
    "add_trace_id",
    "current_traceparent",
    "extract_context",
    "grpc_client_interceptors",
    "grpc_server_interceptors",
    "inject_context",
    "instrument_engine",
    "instrument_fastapi",
    "mark_error",
    "shutdown_telemetry",
    "start_publish_span",
    "start_telemetry",
    "telemetry_enabled",
    "traced_batch",
    "traced_consume",
    "traced_publish",
    "tracer",
]

TRACEPARENT = "traceparent"
"""The W3C Trace Context header (and AMQP/Kafka header, and gRPC metadata key) Folio propagates."""

TRACEPARENT_ENV = "TRACEPARENT"
"""The environment variable that hands a process its parent's context (OpenTelemetry's proposed name)."""

Library = Literal["redis", "httpx"]
"""A client library a process may ask ``start_telemetry`` to instrument."""

_INSTRUMENTORS: dict[Library, str] = {
    "redis": "opentelemetry.instrumentation.redis:RedisInstrumentor",
    "httpx": "opentelemetry.instrumentation.httpx:HTTPXClientInstrumentor",
}

_provider: TracerProvider | None = None
_instrumented: list[Any] = []
# The context TRACEPARENT_ENV named, attached by start_telemetry and detached by shutdown_telemetry.
_inherited: Token[otel_context.Context] | None = None


def telemetry_enabled() -> bool:
    """Whether this process started the SDK (``start_telemetry`` with ``enabled`` on)."""
    return _provider is not None


def start_telemetry(
    settings: TelemetrySettings,
    *,
    service: str,
    libraries: Iterable[Library] = (),
    exporter: SpanExporter | None = None,
) -> TracerProvider | None:
    """Start the SDK for this process as ``service`` and instrument ``libraries``; None when off.

    ``exporter`` replaces the OTLP exporter (tests, the benchmark): spans then go to it in
    batches all the same, and the provider is not made the API's global one (OpenTelemetry
    allows that once per process), so ``shutdown_telemetry`` leaves the process as it found it.
    Idempotent until then: a second call returns the provider of the first. With
    ``TRACEPARENT`` in the environment, the process's spans that have no other parent hang
    below the span it names.
    """
    global _provider, _inherited  # noqa: PLW0603 - one tracer provider per process, as OpenTelemetry's API has
    if not settings.enabled:
        return None
    if _provider is not None:
        return _provider
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.propagators import set_global_response_propagator
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.service_name or service}),
        sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
    )
    provider.add_span_processor(
        BatchSpanProcessor(
            exporter
            or OTLPSpanExporter(
                endpoint=f"{settings.endpoint.rstrip('/')}/v1/traces", timeout=settings.export_timeout_s
            ),
            schedule_delay_millis=settings.export_delay_ms,
            export_timeout_millis=int(settings.export_timeout_s * 1000),
        )
    )
    if exporter is None:
        trace.set_tracer_provider(provider)
    set_global_response_propagator(_TraceparentResponsePropagator())  # type: ignore[no-untyped-call]
    for library in dict.fromkeys(libraries):
        module, _, name = _INSTRUMENTORS[library].partition(":")
        instrumentor = getattr(importlib.import_module(module), name)()
        instrumentor.instrument(tracer_provider=provider)
        _instrumented.append(instrumentor)
    _provider = provider
    if parent := os.environ.get(TRACEPARENT_ENV):
        _inherited = otel_context.attach(extract_context(parent))
    return provider


def shutdown_telemetry() -> None:
    """Export what is buffered (bounded by the export timeout) and stop; nothing when it never started."""
    global _provider, _inherited  # noqa: PLW0603 - see start_telemetry
    provider, _provider = _provider, None
    if _inherited is not None:
        otel_context.detach(_inherited)
        _inherited = None
    from opentelemetry.instrumentation.propagators import set_global_response_propagator

    while _instrumented:
        _instrumented.pop().uninstrument()
    if provider is not None:
        set_global_response_propagator(None)  # type: ignore[no-untyped-call]
        provider.shutdown()


def tracer() -> trace.Tracer:
    """Folio's tracer (the API's no-op one while telemetry is off)."""
    return _provider.get_tracer("folio") if _provider is not None else trace.get_tracer("folio")


def instrument_fastapi(app: Any) -> None:
    """Trace every request of a FastAPI ``app`` (route templates as span names); nothing when off."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=_provider,
        excluded_urls="/healthz$,/readyz$,/metrics$",
        # One span per request, not three: ASGI's send and receive events say nothing a reader needs.
        exclude_spans=["receive", "send"],
    )


def instrument_engine(engine: Any) -> None:
    """Trace the statements of a SQLAlchemy (async) ``engine``; nothing when off.

    Through the instrumentation's ``EngineTracer``, one per engine: its instrumentor is a
    process-wide singleton that would trace one engine only, and it refuses SQLAlchemy 2.1
    by its declared range although the engine events it listens to are unchanged.
    """
    if _provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import get_meter

    usage = get_meter("folio").create_up_down_counter("db.client.connections.usage")
    EngineTracer(  # type: ignore[no-untyped-call]
        _provider.get_tracer("opentelemetry.instrumentation.sqlalchemy"),
        getattr(engine, "sync_engine", engine),
        usage,
    )


def grpc_server_interceptors() -> list[Any]:
    """The interceptors that give each served RPC a span continuing the caller's trace; [] when off."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return [aio_server_interceptor(tracer_provider=_provider)]  # type: ignore[no-untyped-call]


def grpc_client_interceptors() -> list[Any]:
    """The interceptors that give each outgoing RPC a span and put its ``traceparent`` in the metadata."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    return list(aio_client_interceptors(tracer_provider=_provider))  # type: ignore[no-untyped-call]


class _HeaderGetter(Getter[Any]):
    """Reads AMQP headers (a dict) and Kafka headers (a list of pairs), text or bytes."""

    def get(self, carrier: Any, key: str) -> list[str] | None:
        value = carrier.get(key) if isinstance(carrier, Mapping) else dict(carrier).get(key)
        if value is None:
            return None
        return [value.decode("latin-1") if isinstance(value, bytes) else str(value)]

    def keys(self, carrier: Any) -> list[str]:
        return list(carrier.keys() if isinstance(carrier, Mapping) else dict(carrier).keys())


_GETTER = _HeaderGetter()


def inject_context(headers: MutableMapping[str, Any], context: otel_context.Context | None = None) -> None:
    """Write the current (or ``context``'s) ``traceparent`` (and ``tracestate``) into ``headers``.

    Nothing is written outside a sampled or recording span, so off means no header.
    """
    propagate.inject(headers, context=context)


def extract_context(
    headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | str | None,
) -> otel_context.Context:
    """The trace context ``headers`` carry (a mapping, Kafka's pairs, or a bare ``traceparent``)."""
    if headers is None:
        return otel_context.Context()
    if isinstance(headers, str):
        headers = {TRACEPARENT: headers}
    elif not isinstance(headers, Mapping):
        headers = list(headers)
    return propagate.extract(headers, getter=_GETTER, context=otel_context.Context())


def current_traceparent() -> str | None:
    """The ``traceparent`` of the current span (what an outbox row keeps), or None outside one."""
    carrier: dict[str, str] = {}
    inject_context(carrier)
    return carrier.get(TRACEPARENT)


@contextmanager
def traced_publish(
    name: str, *, parent: str | None, attributes: Mapping[str, str] | None = None
) -> Iterator[dict[str, str]]:
    """A producer span ``name`` below ``parent`` (a stored ``traceparent``; else the current span).

    Yields the headers to put on the message: its ``traceparent`` names this span, so the
    consumer's span hangs below the publish. Yields no header while telemetry is off.
    """
    context = extract_context(parent) if parent else None
    with tracer().start_as_current_span(
        name, context=context, kind=SpanKind.PRODUCER, attributes=dict(attributes or {})
    ):
        headers: dict[str, str] = {}
        inject_context(headers)
        yield headers


def start_publish_span(
    name: str,
    *,
    parent: Mapping[str, Any] | Iterable[tuple[str, Any]] | str | None,
    attributes: Mapping[str, str],
) -> tuple[Span, dict[str, str]]:
    """A producer span below ``parent``, not made current (the caller ends it), and the headers naming it.

    For a batch whose records belong to different traces (the Kafka producer's).
    """
    span = tracer().start_span(
        name, context=extract_context(parent), kind=SpanKind.PRODUCER, attributes=dict(attributes)
    )
    headers: dict[str, str] = {}
    inject_context(headers, trace.set_span_in_context(span))
    return span, headers


@contextmanager
def traced_consume(
    name: str,
    headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | str | None,
    *,
    attributes: Mapping[str, str] | None = None,
) -> Iterator[Span]:
    """A consumer span ``name``, current for the block, parented to the producer's span ``headers`` name.

    An exception escaping the block marks the span as an error (and propagates).
    """
    with tracer().start_as_current_span(
        name,
        context=extract_context(headers),
        kind=SpanKind.CONSUMER,
        attributes=dict(attributes or {}),
        record_exception=True,
        set_status_on_exception=True,
    ) as span:
        yield span


@contextmanager
def traced_batch(
    name: str,
    traceparents: Iterable[str | None],
    *,
    receive_name: str,
    attributes: Mapping[str, str] | None = None,
) -> Iterator[Span]:
    """A consumer span ``name`` for a batch whose items carry ``traceparents`` (None: an untraced item).

    The span hangs below the first traced item's span (it begins a trace when none is
    traced), and every other trace in the batch gets a ``receive_name`` span, so each
    writer's trace shows its item was consumed. Errors escaping the block mark the span.
    """
    parents = list(dict.fromkeys(parent for parent in traceparents if parent))
    for other in parents[1:]:
        with traced_consume(receive_name, other, attributes=attributes):
            pass
    with traced_consume(name, parents[0] if parents else None, attributes=attributes) as span:
        yield span


def mark_error(span: Span, description: str) -> None:
    """Flag ``span`` as failed (tail sampling keeps its trace) without an exception escaping."""
    span.set_status(Status(StatusCode.ERROR, description))


def add_trace_id(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: the current span's trace id as ``trace_id`` (the request's own otherwise)."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event["trace_id"] = format(span_context.trace_id, "032x")
    return event


class _TraceparentResponsePropagator:
    """Answers each traced HTTP request with its ``traceparent``, so a person can open its trace."""

    def inject(self, carrier: Any, context: otel_context.Context | None = None, setter: Any = None) -> None:
        span_context = trace.get_current_span(context).get_span_context()
        if not span_context.is_valid or setter is None:
            return
        value = f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-{span_context.trace_flags:02x}"
        setter.set(carrier, TRACEPARENT, value)
        setter.set(carrier, "Access-Control-Expose-Headers", TRACEPARENT)
