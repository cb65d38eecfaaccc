"""Histogram observations carry the current trace id as an exemplar, shown in the OpenMetrics exposition."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest

from folio.core.exemplars import current_trace_id, observe, trace_exemplar
from folio.core.logging.context import request_context

pytestmark = pytest.mark.unit

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


@pytest.fixture
def registry() -> CollectorRegistry:
    """A registry of the test's own."""
    return CollectorRegistry()


@pytest.fixture
def latency(registry: CollectorRegistry) -> Histogram:
    """A request-latency histogram in ``registry``."""
    return Histogram("folio_test_latency_seconds", "Test latency.", ["route"], registry=registry)


@pytest.fixture
def served(registry: CollectorRegistry) -> Iterator[str]:
    """``registry`` served by prometheus_client's exporter (as the inbox and gRPC processes serve theirs)."""
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        yield f"http://127.0.0.1:{server.server_port}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_no_trace_means_no_exemplar() -> None:
    """Outside any trace there is no trace id, so observations carry nothing."""
    assert current_trace_id() is None
    assert trace_exemplar() is None


def test_the_log_context_trace_id_becomes_the_exemplar(
    registry: CollectorRegistry, latency: Histogram
) -> None:
    """Inside a request with a traceparent, the bucket the observation lands in names its trace."""
    with request_context("corr-1", TRACE_ID):
        observe(latency.labels("/api/v1/orders"), 0.3)
    exposition = openmetrics_latest(registry).decode()  # type: ignore[no-untyped-call]  # untyped in the library
    [bucket] = [line for line in exposition.splitlines() if 'le="0.5"' in line]
    assert f'# {{trace_id="{TRACE_ID}"}} 0.3' in bucket
    [below] = [line for line in exposition.splitlines() if 'le="0.25"' in line]
    assert "trace_id" not in below


def test_exporter_serves_exemplars_to_an_openmetrics_scrape_only(latency: Histogram, served: str) -> None:
    """/metrics shows the exemplar to an OpenMetrics scrape (as Prometheus asks), not in the classic text."""
    with request_context("corr-2", TRACE_ID):
        observe(latency.labels("/api/v1/search"), 0.02)
    openmetrics = httpx.get(served, headers={"Accept": OPENMETRICS})
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert f'# {{trace_id="{TRACE_ID}"}} 0.02' in openmetrics.text
    classic = httpx.get(served)
    assert "folio_test_latency_seconds_bucket" in classic.text
    assert TRACE_ID not in classic.text


def test_an_active_opentelemetry_span_wins_over_the_log_context() -> None:
    """With OpenTelemetry installed, the current span's trace id is the exemplar's."""
    trace = pytest.importorskip("opentelemetry.trace")
    span_trace_id = 0x0AF7651916CD43DD8448EB211C80319C
    context = trace.SpanContext(
        trace_id=span_trace_id, span_id=0x00F067AA0BA902B7, is_remote=False, trace_flags=trace.TraceFlags(1)
    )
    with request_context("corr-3", TRACE_ID), trace.use_span(trace.NonRecordingSpan(context)):
        assert trace_exemplar() == {"trace_id": "0af7651916cd43dd8448eb211c80319c"}
    assert current_trace_id() is None
