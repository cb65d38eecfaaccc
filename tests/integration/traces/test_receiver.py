"""The receiver takes real OTLP/HTTP from the SDK's exporter; the kept trace is in the store and found."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

from folio.core.db import Database
from folio.core.settings.telemetry import TelemetrySettings
from folio.core.telemetry import shutdown_telemetry, start_telemetry, tracer
from folio.traces.api import TraceQuery, TraceReceiver, TracesSettings, get_trace, search_traces
from tests.conftest import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
async def receiver(pg_database: Database) -> AsyncIterator[TraceReceiver]:
    """A receiver on a free port keeping every trace (keep_ratio 1), serving until the test ends."""
    settings = TracesSettings(port=free_port(), keep_ratio=1.0, quiet_s=0.2)
    receiver = TraceReceiver(pg_database, settings)
    stop = asyncio.Event()
    serving = asyncio.create_task(receiver.serve(stop, tick_s=0.1))
    async with httpx.AsyncClient() as http:
        for _ in range(50):  # listening within a few ticks
            try:
                await http.get(f"http://127.0.0.1:{settings.port}/metrics")
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.05)
    yield receiver
    stop.set()
    await serving


async def test_the_sdk_exporter_talks_to_the_receiver_and_the_search_finds_the_trace(
    receiver: TraceReceiver, pg_database: Database
) -> None:
    """A request span with a child, exported over OTLP/HTTP protobuf, is searchable and whole."""
    endpoint = f"http://127.0.0.1:{receiver.settings.port}"
    exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=5)
    start_telemetry(TelemetrySettings(enabled=True), service="gateway-test", exporter=exporter)
    try:
        with (
            tracer().start_as_current_span("GET /api/v1/tasks") as root,
            tracer().start_as_current_span("SELECT"),
        ):
            pass
    finally:
        # The exporter posts synchronously: flush from a thread so this loop can serve it.
        await asyncio.to_thread(shutdown_telemetry)
    trace_id = f"{root.get_span_context().trace_id:032x}"
    for _ in range(50):
        found = await search_traces(
            pg_database, TraceQuery(service="gateway-test", operation="GET /api/v1/tasks")
        )
        if any(row.trace_id == trace_id for row in found):
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the trace never reached the store")
    view = await get_trace(pg_database, trace_id)
    assert view is not None
    assert [(span.name, span.depth, span.service) for span in view.spans] == [
        ("GET /api/v1/tasks", 0, "gateway-test"),
        ("SELECT", 1, "gateway-test"),
    ]
    async with httpx.AsyncClient() as http:
        metrics = (await http.get(f"{endpoint}/metrics")).text
    assert "folio_traces_spans_received_total 2.0" in metrics
    assert "folio_traces_spans_kept_total 2.0" in metrics


async def test_a_body_that_is_not_otlp_is_refused(receiver: TraceReceiver) -> None:
    """Garbage is a 400 and another content type a 415: nothing reaches the sampler."""
    url = f"http://127.0.0.1:{receiver.settings.port}/v1/traces"
    async with httpx.AsyncClient() as http:
        garbage = await http.post(
            url, content=b"\xff\x00garbage", headers={"Content-Type": "application/x-protobuf"}
        )
        json_body = await http.post(url, json={"resourceSpans": []})
    assert (garbage.status_code, json_body.status_code) == (400, 415)
    assert receiver.sampler.spans_received == 0
