"""Request middleware: correlation ids, the access log line and HTTP metrics.

Pure ASGI (no ``BaseHTTPMiddleware``) so that the request's contextvars stay bound
through streaming responses and the background tasks that run after the response.

Liveness (``GET /healthz``) is answered here, with its correlation id, metrics and
(sampled) access line like any request, but without the app behind: a probe asks
whether the process serves, which this proves, and orchestrators send one every few
seconds to every process. Through routing and FastAPI's dependency machinery it cost
three times the CPU of a bare FastAPI health check; here it costs less. The route in
``health.py`` stays the documented (OpenAPI) definition, and a test holds the two
answers equal.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from folio.core.db import Database, read_your_writes_scope
from folio.core.exemplars import observe
from folio.core.logging.context import accept_correlation_id, request_context, trace_id_from
from folio.core.resilience import BreakerState
from folio.entrypoints.gateway.problems import problem_response, unhandled_problem
from folio.grpckit.deadlines import request_budget

log = structlog.get_logger("folio.http")

REQUEST_ID_HEADER = "x-request-id"
LIVENESS_PATH = "/healthz"
HEALTH_PATHS = frozenset({LIVENESS_PATH, "/readyz", "/metrics"})


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
        self._counted: dict[tuple[str, str, str], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and observe its duration.

        The labelled children are kept: ``labels()`` validates and locks on every
        call, and a process sees a few hundred (method, route, status) triples at most
        (routes are templates, so the set is bounded).
        """
        counted_key = (method, route, str(status))
        counted = self._counted.get(counted_key)
        if counted is None:
            counted = self._counted[counted_key] = self.requests.labels(*counted_key)
        counted.inc()
        timed = self._timed.get((method, route))
        if timed is None:
            timed = self._timed[method, route] = self.latency.labels(method, route)
        observe(timed, seconds)  # with the trace id as its bucket's exemplar


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
    the trace id comes from a W3C ``traceparent`` header when present. The request's
    time budget (``gateway.request_budget_s``) starts here: what is left of it is the
    deadline of every gRPC call the request makes (``folio.grpckit.deadlines``).
    """

    def __init__(
        self, app: ASGIApp, metrics: HttpMetrics, liveness: bytes, budget_s: float | None = None
    ) -> None:
        """``liveness`` is the JSON body ``GET /healthz`` answers (the route's ``Liveness``)."""
        self.app = app
        self.metrics = metrics
        self.budget_s = budget_s
        self.liveness_start: Message = {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(liveness)).encode()),
            ],
        }
        self.liveness_body: Message = {"type": "http.response.body", "body": liveness}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection (HTTP only; other scopes pass through)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = traceparent = None
        for name, value in scope["headers"]:  # ASGI header names are lower-case bytes
            if name == b"x-request-id":
                request_id = value.decode("latin-1")
            elif name == b"traceparent":
                traceparent = value.decode("latin-1")
        correlation = accept_correlation_id(request_id)
        trace_id = trace_id_from(traceparent)
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
        live = scope["path"] == LIVENESS_PATH and scope["method"] == "GET"
        with request_context(correlation, trace_id), read_your_writes_scope(), request_budget(self.budget_s):
            try:
                if live:
                    await send_with_id(dict(self.liveness_start))
                    await send_with_id(self.liveness_body)
                else:
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
                route = LIVENESS_PATH if live else _route_of(scope)
                method = scope["method"]
                self.metrics.record(method, route, status, elapsed)
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
