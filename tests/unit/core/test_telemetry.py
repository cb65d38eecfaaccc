"""Trace context across hops: AMQP and Kafka headers, the outbox's traceparent, off meaning off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import text

from folio.core.db import build_engine
from folio.core.settings.database import DatabaseSettings
from folio.core.telemetry import (
    TRACEPARENT,
    TRACEPARENT_ENV,
    add_trace_id,
    current_traceparent,
    extract_context,
    inject_context,
    telemetry_enabled,
    traced_batch,
    traced_consume,
    traced_publish,
    tracer,
)
from tests.support.tracing import parent_id, recording_spans, spans_named

pytestmark = pytest.mark.unit


def _ids(span: Any) -> tuple[int, int]:
    context = span.get_span_context()
    return context.trace_id, context.span_id


def test_off_means_no_header_no_span() -> None:
    """Without start_telemetry nothing is recorded and nothing is injected."""
    assert not telemetry_enabled()
    with traced_publish("q publish", parent=None) as headers:
        assert headers == {}
    assert current_traceparent() is None


def test_amqp_headers_round_trip() -> None:
    """A traceparent injected into AMQP headers (a dict) extracts to the same trace and span."""
    with recording_spans(), tracer().start_as_current_span("request") as span:
        headers: dict[str, Any] = {"folio-topic": "orders"}
        inject_context(headers)
        extracted = extract_context(headers)
    assert _ids(trace.get_current_span(extracted)) == _ids(span)
    assert headers[TRACEPARENT].split("-")[1] == f"{_ids(span)[0]:032x}"


def test_kafka_headers_round_trip_from_bytes() -> None:
    """Kafka's list of (name, bytes) pairs carries the context too."""
    with recording_spans(), tracer().start_as_current_span("request") as span:
        carried: dict[str, str] = {}
        inject_context(carried)
        kafka_headers = [
            ("event-id", b"outbox-1"),
            *((name, value.encode()) for name, value in carried.items()),
        ]
        extracted = extract_context(kafka_headers)
    assert _ids(trace.get_current_span(extracted)) == _ids(span)


def test_consumer_span_continues_the_producers_trace() -> None:
    """Publish -> headers -> consume: one trace, the consumer span a child of the producer span."""
    with recording_spans() as exporter:
        assert isinstance(exporter, InMemorySpanExporter)
        with tracer().start_as_current_span("request"):
            stored = current_traceparent()  # what the outbox row keeps
        assert stored is not None
        with traced_publish("orders publish", parent=stored) as headers:
            pass
        with traced_consume("orders process", headers):
            pass
    spans = {span.name: span for span in exporter.get_finished_spans()}
    request, publish, process = spans["request"], spans["orders publish"], spans["orders process"]
    assert parent_id(publish) == request.context.span_id
    assert parent_id(process) == publish.context.span_id
    assert {request.context.trace_id, publish.context.trace_id, process.context.trace_id} == {
        request.context.trace_id
    }
    assert (publish.kind, process.kind) == (SpanKind.PRODUCER, SpanKind.CONSUMER)


def test_a_batch_continues_its_first_writer_and_reaches_every_other() -> None:
    """Items from two traces (and an untraced one): the batch below the first, a receive span in the other."""
    with recording_spans() as exporter:
        assert isinstance(exporter, InMemorySpanExporter)
        writers = []
        for name in ("first writer", "second writer"):
            with tracer().start_as_current_span(name):
                writers.append(current_traceparent())
        with traced_batch("search process", [None, *writers, writers[0]], receive_name="search receive"):
            pass
    spans = {span.name: span for span in exporter.get_finished_spans()}
    first, second = spans["first writer"], spans["second writer"]
    assert parent_id(spans["search process"]) == first.context.span_id
    assert spans["search process"].context.trace_id == first.context.trace_id
    assert parent_id(spans["search receive"]) == second.context.span_id
    assert len(exporter.get_finished_spans()) == 4  # one receive span: a repeated writer counts once


def test_an_untraced_batch_begins_a_trace() -> None:
    """No item carries a traceparent: the batch's span is a root."""
    with recording_spans() as exporter:
        assert isinstance(exporter, InMemorySpanExporter)
        with (
            tracer().start_as_current_span("unrelated"),
            traced_batch("q process", [None], receive_name="q receive"),
        ):
            pass
    assert parent_id(spans_named(exporter, "q process")[0]) is None


def test_a_process_started_with_traceparent_continues_that_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    """TRACEPARENT in the environment (a flow's task): the process's spans hang below it, until shutdown."""
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    monkeypatch.setenv(TRACEPARENT_ENV, parent)
    with recording_spans() as exporter, tracer().start_as_current_span("lake compact"):
        pass
    assert isinstance(exporter, InMemorySpanExporter)
    (span,) = exporter.get_finished_spans()
    assert f"{span.context.trace_id:032x}-{parent_id(span):016x}" == parent[3:52]
    assert current_traceparent() is None  # detached at shutdown: nothing inherited afterwards


def test_a_failing_consumer_marks_its_span_as_an_error() -> None:
    """An exception escaping the consume block flags the span (tail sampling keeps its trace)."""
    with recording_spans() as exporter:
        assert isinstance(exporter, InMemorySpanExporter)
        with pytest.raises(RuntimeError), traced_consume("q process", None):
            raise RuntimeError("boom")
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR


def test_log_lines_carry_the_current_trace_id() -> None:
    """add_trace_id writes the span's trace id into the event; outside a span it leaves the line alone."""
    assert add_trace_id(None, "info", {"event": "x"}) == {"event": "x"}
    with recording_spans(), tracer().start_as_current_span("request") as span:
        event = add_trace_id(None, "info", {"event": "x"})
    assert event["trace_id"] == f"{_ids(span)[0]:032x}"
    assert structlog.contextvars.get_contextvars().get("trace_id") is None  # nothing bound for later lines


async def test_an_engines_statements_are_spans_of_the_request(tmp_path: Path) -> None:
    """build_engine instruments each engine it makes: a statement is a child span of the current one."""
    with recording_spans() as exporter:
        assert isinstance(exporter, InMemorySpanExporter)
        engine = build_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", DatabaseSettings())
        try:
            with tracer().start_as_current_span("GET /api/v1/tasks") as request:
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        finally:
            await engine.dispose()
    (statement,) = [span for span in exporter.get_finished_spans() if span.name.startswith("SELECT")]
    assert parent_id(statement) == request.get_span_context().span_id
