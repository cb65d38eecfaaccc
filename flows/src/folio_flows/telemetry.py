"""The flow's runs as OpenTelemetry spans, sent where Folio's own processes send theirs.

``start_tracing`` reads the variables Folio's ``telemetry`` settings read (``folio up``
sets them for its ``flows`` process; ``folio flows run`` passes on the caller's):
``FOLIO_TELEMETRY_ENABLED`` (off, the default: nothing at all, as in Folio),
``FOLIO_TELEMETRY_ENDPOINT`` (OTLP/HTTP base URL, spans go to ``<endpoint>/v1/traces``),
``FOLIO_TELEMETRY_SAMPLE_RATIO``, ``FOLIO_TELEMETRY_EXPORT_TIMEOUT_S``,
``FOLIO_TELEMETRY_EXPORT_DELAY_MS``, and the service name (``FOLIO_TELEMETRY_SERVICE_NAME``,
else ``FOLIO_SERVICE_NAME``, else ``flows``). A Folio config file is not read: this package
never imports ``folio``.

With a tracer provider set, Prefect's run telemetry (``prefect.telemetry.run_telemetry``, on
unless ``PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY=false``) makes each flow run and task
run a span, a task's below its flow's, and keeps a run's span current while it runs; so
``trace_environment`` there names the task's span, and ``folio_cli`` hands it to each
``folio`` subprocess as ``TRACEPARENT``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from opentelemetry import propagate, trace

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

__all__ = ["start_tracing", "trace_environment"]

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_provider: TracerProvider | None = None


def _env(name: str, default: str) -> str:
    return os.environ.get(f"FOLIO_TELEMETRY_{name}") or default


def start_tracing() -> TracerProvider | None:
    """Make this process's runs spans exported to Folio's receiver; None when telemetry is off.

    Idempotent: a second call returns the first call's provider. The provider flushes its
    last batch when the process exits.
    """
    global _provider  # noqa: PLW0603 - one tracer provider per process, as OpenTelemetry's API has
    if _env("ENABLED", "false").strip().lower() not in _TRUE:
        return None
    if _provider is not None:
        return _provider
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    # The defaults are folio.core.settings.telemetry's.
    endpoint = _env("ENDPOINT", "http://127.0.0.1:21490").rstrip("/")
    timeout_s = float(_env("EXPORT_TIMEOUT_S", "2.0"))
    service = _env("SERVICE_NAME", os.environ.get("FOLIO_SERVICE_NAME") or "flows")
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}),
        sampler=ParentBased(TraceIdRatioBased(float(_env("SAMPLE_RATIO", "1.0")))),
    )
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=timeout_s),
            schedule_delay_millis=int(_env("EXPORT_DELAY_MS", "500")),
            export_timeout_millis=int(timeout_s * 1000),
        )
    )
    trace.set_tracer_provider(provider)
    _provider = provider
    return provider


def trace_environment() -> dict[str, str]:
    """``TRACEPARENT`` (and ``TRACESTATE``) naming the current span, for a child process; {} outside one."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return {name.upper(): value for name, value in carrier.items() if name in {"traceparent", "tracestate"}}
