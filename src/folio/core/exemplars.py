"""Exemplars: the trace id a Prometheus histogram observation carries, linking a latency bucket to a trace.

``observe(child, seconds)`` records an observation with ``{"trace_id": ...}`` attached when
the work has one. The id is the current OpenTelemetry span's when the OpenTelemetry API is
installed and a span is active (it then names the trace a trace backend keeps), else the
``trace_id`` of the log context (``folio.core.logging.context``: the request's W3C
``traceparent``), else there is no exemplar.

Exemplars appear only in the OpenMetrics exposition (a scrape that sends
``Accept: application/openmetrics-text``, as Prometheus does); Prometheus keeps them with
``--enable-feature=exemplar-storage`` (the harness turns it on) and answers them at
``/api/v1/query_exemplars``.
"""

from __future__ import annotations

from typing import Protocol

import structlog

try:  # optional: the OpenTelemetry SDK is configured by folio.core.telemetry where installed
    from opentelemetry import trace as otel_trace
except ImportError:  # pragma: no cover - depends on the environment
    otel_trace = None  # type: ignore[assignment]

__all__ = ["Observable", "current_trace_id", "observe", "trace_exemplar"]


class Observable(Protocol):
    """A histogram (or one labelled child of one), as prometheus_client defines ``observe``."""

    def observe(self, amount: float, exemplar: dict[str, str] | None = None) -> None:
        """Record ``amount``, with ``exemplar`` labels attached to its bucket when given."""


def current_trace_id() -> str | None:
    """The trace id (32 lowercase hex digits) of the work in progress, or ``None``."""
    if otel_trace is not None:
        context = otel_trace.get_current_span().get_span_context()
        if context.is_valid:
            return format(context.trace_id, "032x")
    logged = structlog.contextvars.get_contextvars().get("trace_id")
    return logged if isinstance(logged, str) and logged else None


def trace_exemplar() -> dict[str, str] | None:
    """``{"trace_id": id}`` for the current trace, or ``None`` outside of one."""
    trace_id = current_trace_id()
    return {"trace_id": trace_id} if trace_id else None


def observe(histogram: Observable, amount: float) -> None:
    """``histogram.observe(amount)`` with the current trace as the exemplar of its bucket."""
    histogram.observe(amount, exemplar=trace_exemplar())
