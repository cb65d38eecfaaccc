"""The flow's tracing (``folio_flows.telemetry``), configured from Folio's telemetry variables.

It runs in the flows environment, so a child process there starts it (without Prefect:
Prefect's own run spans need only the provider this sets) and this test plays the OTLP/HTTP
receiver the spans are sent to.
"""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from folio.core.settings import Settings
from tests.support.flows import run_in_flows_env

pytestmark = pytest.mark.unit

CHILD = textwrap.dedent(
    """
    import json, os
    from opentelemetry import trace
    from folio_flows.telemetry import start_tracing, trace_environment

    enabled = os.environ.pop("TEST_ENABLED")
    off = start_tracing()  # FOLIO_TELEMETRY_ENABLED unset: Folio's default is off
    os.environ["FOLIO_TELEMETRY_ENABLED"] = enabled
    provider = start_tracing()
    with trace.get_tracer("test").start_as_current_span("compact") as span:
        env = trace_environment()
    print(json.dumps({
        "off": off is not None,
        "on": provider is not None,
        "env": env,
        "trace_id": format(span.get_span_context().trace_id, "032x"),
    }))
    """
)


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[ExportTraceServiceRequest]]]:
    """An OTLP/HTTP receiver on loopback: its base URL and the export requests it got."""
    received: list[ExportTraceServiceRequest] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/v1/traces":
                received.append(ExportTraceServiceRequest.FromString(body))
            self.send_response(200 if self.path == "/v1/traces" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _run(settings: Settings, endpoint: str, enabled: str) -> dict[str, Any]:
    env = {
        "TEST_ENABLED": enabled,
        "FOLIO_TELEMETRY_ENDPOINT": f"{endpoint}/",
        "FOLIO_TELEMETRY_EXPORT_DELAY_MS": "10",
        "FOLIO_SERVICE_NAME": "flows",
    }
    result: dict[str, Any] = run_in_flows_env(settings, CHILD, env, timeout=60)
    return result


def test_the_provider_exports_to_the_endpoint_the_environment_names(
    settings: Settings, receiver: tuple[str, list[ExportTraceServiceRequest]]
) -> None:
    """On: spans reach `<endpoint>/v1/traces` as `flows`, a child gets TRACEPARENT; unset: no provider."""
    endpoint, received = receiver
    result = _run(settings, endpoint, "true")

    assert (result["off"], result["on"]) == (False, True)
    assert result["env"]["TRACEPARENT"].split("-")[1] == result["trace_id"]
    [request] = received  # the exit flushed the batch
    [resource_spans] = request.resource_spans
    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    [span] = [span for scope in resource_spans.scope_spans for span in scope.spans]
    assert resource["service.name"] == "flows"
    assert (span.name, span.trace_id.hex()) == ("compact", result["trace_id"])


def test_telemetry_off_sets_no_provider_and_sends_nothing(
    settings: Settings, receiver: tuple[str, list[ExportTraceServiceRequest]]
) -> None:
    """`FOLIO_TELEMETRY_ENABLED=false folio up`: no provider, no span sent, no TRACEPARENT."""
    endpoint, received = receiver
    result = _run(settings, endpoint, "false")

    assert (result["off"], result["on"], result["env"]) == (False, False, {})
    assert received == []
