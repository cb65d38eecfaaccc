"""Folio's trace backend, its public face: receive OTLP spans, tail-sample them, keep and search traces.

Key contracts: ``TraceReceiver`` (``folio traces collect``) takes OTLP/HTTP protobuf
from any OpenTelemetry SDK or collector and stores the traces ``TailSampler`` keeps;
``search_traces`` and ``get_trace`` read the bounded store ``prune_traces`` trims. The
SDK side of tracing (every process's spans, context across hops) is ``folio.core.telemetry``.
"""

from folio.traces.otlp import MalformedExportError, SpanRecord, decode_export
from folio.traces.receiver import TraceReceiver, sampler_for
from folio.traces.sampling import DecidedTrace, Decision, TailSampler
from folio.traces.settings import TracesSettings
from folio.traces.store import (
    SpanRow,
    TraceQuery,
    TraceRow,
    TraceView,
    get_trace,
    prune_traces,
    save_traces,
    search_traces,
)

__all__ = [
    "DecidedTrace",
    "Decision",
    "MalformedExportError",
    "SpanRecord",
    "SpanRow",
    "TailSampler",
    "TraceQuery",
    "TraceReceiver",
    "TraceRow",
    "TraceView",
    "TracesSettings",
    "decode_export",
    "get_trace",
    "prune_traces",
    "sampler_for",
    "save_traces",
    "search_traces",
]
