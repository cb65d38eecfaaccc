"""Tracing on for one test: ``folio.core.telemetry`` started with an in-memory exporter, stopped after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from folio.core.settings.telemetry import TelemetrySettings
from folio.core.telemetry import shutdown_telemetry, start_telemetry

__all__ = ["parent_id", "recording_spans", "spans_named"]


@contextmanager
def recording_spans(
    service: str = "test", exporter: SpanExporter | None = None
) -> Iterator[InMemorySpanExporter | SpanExporter]:
    """Telemetry on as ``service`` for the block; every finished span lands in the yielded exporter.

    Spans are exported in batches: ``shutdown_telemetry`` at the block's end flushes them,
    so read them after the block (or call ``force_flush``).
    """
    sink = exporter or InMemorySpanExporter()
    start_telemetry(TelemetrySettings(enabled=True, export_delay_ms=10), service=service, exporter=sink)
    try:
        yield sink
    finally:
        shutdown_telemetry()


def spans_named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    """The finished spans called ``name``."""
    return [span for span in exporter.get_finished_spans() if span.name == name]


def parent_id(span: ReadableSpan) -> int | None:
    """The span id of ``span``'s parent, None for a root."""
    return span.parent.span_id if span.parent is not None else None
