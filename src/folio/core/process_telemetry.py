"""A long-running process's telemetry in one place: its Prometheus ``/metrics`` and its tracing.

The worker, the Kafka stages, ``folio inbox watch`` and ``folio search sync`` each open
``process_telemetry`` once, after logging is configured, around the work they serve.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from folio.core.settings.telemetry import TelemetrySettings
from folio.core.telemetry import Library, shutdown_telemetry, start_telemetry

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = ["process_telemetry"]

_METRICS_STOP_S = 5.0


@contextmanager
def process_telemetry(
    settings: TelemetrySettings,
    *,
    service: str,
    metrics_port: int,
    metrics_host: str = "127.0.0.1",
    libraries: Iterable[Library] = (),
    exporter: SpanExporter | None = None,
) -> Iterator[None]:
    """Serve ``/metrics`` on ``metrics_host``:``metrics_port`` and trace as ``service`` for the block.

    A ``metrics_port`` of 0 serves nothing (``folio up`` then neither probes nor scrapes the
    process). The metrics server is bound first, so a port already taken (``OSError``) starts
    nothing. On leaving, the last spans are exported (bounded by ``telemetry.export_timeout_s``)
    and the metrics server stops. ``exporter`` replaces the OTLP one, as ``start_telemetry``'s does.
    """
    metrics = None
    if metrics_port:
        from prometheus_client import start_http_server

        metrics = start_http_server(metrics_port, addr=metrics_host)
    start_telemetry(settings, service=service, libraries=libraries, exporter=exporter)
    try:
        yield
    finally:
        shutdown_telemetry()
        if metrics is not None:
            server, thread = metrics
            server.shutdown()
            thread.join(timeout=_METRICS_STOP_S)
            server.server_close()  # shutdown only ends the loop; this frees the port
