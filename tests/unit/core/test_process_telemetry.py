"""One helper for a process's telemetry: its ``/metrics`` served on loopback and its tracing, for a block."""

from __future__ import annotations

import socket
import urllib.request

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from folio.core.process_telemetry import process_telemetry
from folio.core.settings.telemetry import TelemetrySettings
from folio.core.telemetry import telemetry_enabled, tracer
from tests.conftest import free_port

pytestmark = pytest.mark.unit

OFF = TelemetrySettings(enabled=False)
TRACED = TelemetrySettings(enabled=True, export_delay_ms=10)


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_metrics_are_served_and_tracing_runs_for_the_block_only() -> None:
    """Inside: /metrics answers and spans are recorded; after: the last spans exported, the port closed."""
    port = free_port()
    exporter = InMemorySpanExporter()
    with process_telemetry(TRACED, service="worker-1", metrics_port=port, exporter=exporter):
        assert telemetry_enabled()
        with tracer().start_as_current_span("payments.webhooks process"):
            pass
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            assert b"process_cpu_seconds_total" in response.read()
    assert not telemetry_enabled()
    assert [span.name for span in exporter.get_finished_spans()] == ["payments.webhooks process"]
    assert not _answers(port)


def test_port_zero_serves_nothing_and_off_traces_nothing() -> None:
    """metrics_port 0 (--no-metrics, --once) binds nothing; telemetry off starts no SDK."""
    with process_telemetry(OFF, service="inbox", metrics_port=0):
        assert not telemetry_enabled()


def test_a_taken_port_starts_nothing() -> None:
    """The metrics port already bound elsewhere: OSError before tracing starts."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with (
            pytest.raises(OSError, match="in use"),
            process_telemetry(TRACED, service="streams", metrics_port=port),
        ):
            pass
    assert not telemetry_enabled()
