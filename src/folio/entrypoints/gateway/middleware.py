"""Request middleware: correlation ids, the access log line and HTTP metrics.

Pure ASGI (no ``BaseHTTPMiddleware``) so that the request's contextvars stay bound
through streaming responses and the background tasks that run after the response.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from folio.core.db import Database, read_your_writes_scope
from folio.core.logging.context import accept_correlation_id, request_context, trace_id_from
from folio.core.resilience import BreakerState
from folio.entrypoints.gateway.problems import problem_response, unhandled_problem

log = structlog.get_logger("folio.http")

REQUEST_ID_HEADER = "x-request-id"
HEALTH_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class HttpMetrics:
    """The gateway's Prometheus metrics, in the app's own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "folio_http_requests_total",
            "HTTP requests handled.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "folio_http_request_duration_seconds",
            "Time to the last response byte.",
            ["method", "route"],
            registry=registry,
        )


_BREAKER_LEVEL = {BreakerState.CLOSED: 0.0, BreakerState.HALF_OPEN: 1.0, BreakerState.OPEN: 2.0}


class DatabaseBreakerCollector(Collector):
    """Exports each database engine's circuit-breaker state, read at scrape time."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self) -> Iterator[Metric]:
        """One ``folio_db_breaker_state`` sample per engine: 0 closed, 1 half-open, 2 open."""
        family = GaugeMetricFamily(
            "folio_db_breaker_state",
            "Database circuit breaker per engine: 0 closed, 1 half-open, 2 open.",
            labels=["engine"],
        )
        breakers = {"primary": self.database.primary_breaker, "replica": self.database.replica_breaker}
        for engine, breaker in breakers.items():
            if breaker is not None:
                family.add_metric([engine], _BREAKER_LEVEL[breaker.state])
        yield family


class RequestContextMiddleware:
    """Binds request context, echoes the id, logs the access line and records metrics.

    The correlation id is the client's ``X-Request-ID`` when safe, else a fresh one;
    the trace id comes from a W3C ``traceparent`` header when present.
    """

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection (HTTP only; other scopes pass through)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        correlation = accept_correlation_id(headers.get(REQUEST_ID_HEADER))
        trace_id = trace_id_from(headers.get("traceparent"))
        status = 500
        response_started = False
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.encode(), correlation.encode()),
                ]
            await send(message)

        # A fresh read-your-writes scope per request: its reads follow its own writes.
        with request_context(correlation, trace_id), read_your_writes_scope():
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                # Handled here, not by Starlette's outermost error middleware, so the
                # 500 keeps the request's correlation id in its log line and body.
                if response_started:
                    raise
                log.exception("http.unhandled_error", path=scope["path"], error_type=type(exc).__name__)
                await problem_response(unhandled_problem(scope["path"]))(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                route = _route_of(scope)
                method = scope["method"]
                self.metrics.requests.labels(method, route, str(status)).inc()
                self.metrics.latency.labels(method, route).observe(elapsed)
                event = "http.request.health" if scope["path"] in HEALTH_PATHS else "http.request"
                log.info(
                    event,
                    method=method,
                    path=scope["path"],
                    route=route,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                )


def _route_of(scope: Scope) -> str:
    """The matched route template (bounded label cardinality), or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
