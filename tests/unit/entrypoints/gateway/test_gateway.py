"""The gateway's promises: health, readiness, one error shape, correlation ids, metrics."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import structlog
from fastapi import BackgroundTasks, FastAPI
from pydantic import BaseModel, Field
from sqlalchemy.pool import QueuePool

from folio.bootstrap import Platform, build_platform
from folio.core.errors import ConflictError, RateLimitedError
from folio.core.logging import configure_logging, shutdown_logging
from folio.core.settings import Settings, load_settings
from folio.entrypoints.gateway import create_app

pytestmark = pytest.mark.unit

log = structlog.get_logger("tests.gateway")


class Shelf(BaseModel):
    """A request body with rules to break."""

    name: str = Field(min_length=1)
    capacity: int = Field(gt=0)


def _add_test_routes(app: FastAPI) -> None:
    @app.post("/test/shelves")
    async def create_shelf(shelf: Shelf) -> Shelf:
        return shelf

    @app.get("/test/conflict")
    async def conflict() -> None:
        raise ConflictError("shelf 'fiction' exists", shelf="fiction")

    @app.get("/test/limited")
    async def limited() -> None:
        raise RateLimitedError("slow down", retry_after_s=17)

    @app.get("/test/crash")
    async def crash() -> None:
        raise RuntimeError("the database exploded")

    @app.get("/test/work")
    async def work(background: BackgroundTasks) -> dict[str, str]:
        log.info("test.handler")

        async def spawned() -> None:
            log.info("test.spawned_task")

        await asyncio.create_task(spawned())
        await asyncio.to_thread(lambda: log.info("test.thread"))
        background.add_task(lambda: log.info("test.background"))
        return {"ok": "yes"}


@pytest.fixture
def gateway_settings(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with SQLite in the test's own folder, counters in memory, and no .env file."""
    monkeypatch.setenv("FOLIO_CACHE_BACKEND", "memory")
    return load_settings(env_file=clean_env / "absent.env")


@pytest.fixture
def log_file(gateway_settings: Settings, clean_env: Path) -> Iterator[Path]:
    """Folio's real logging pipeline writing to a file this test reads."""
    path = clean_env / "gateway.jsonl"
    logging_settings = gateway_settings.logging.model_copy(update={"file": path, "sampling": {}})
    configure_logging(logging_settings, service="gateway")
    yield path
    shutdown_logging()


@pytest.fixture
def app(gateway_settings: Settings) -> FastAPI:
    """The gateway app with the test routes added."""
    app = create_app(gateway_settings)
    _add_test_routes(app)
    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, lifespan included."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_healthz_answers_without_dependencies(client: httpx.AsyncClient) -> None:
    """/healthz says ok with the service name and version."""
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["service"] == "gateway"


async def test_the_liveness_answer_is_the_documented_route_s(client: httpx.AsyncClient) -> None:
    """The middleware's /healthz answer is byte for byte what the route would write, as JSON."""
    from fastapi import Request

    from folio.entrypoints.gateway.health import healthz

    response = await client.get("/healthz")
    app = client._transport.app  # type: ignore[attr-defined]
    route_answer = await healthz(Request({"type": "http", "app": app}))
    assert response.content == route_answer.model_dump_json().encode()
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    assert "/healthz" in app.openapi()["paths"]


async def test_readyz_checks_the_database_and_the_orders_service(client: httpx.AsyncClient) -> None:
    """/readyz reports the database and the orders gRPC service (none runs here: degraded, not down)."""
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert set(body["checks"]) == {"database", "orders"}
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["orders"].startswith("failed: ServiceUnavailableError: unavailable")


async def test_readyz_is_a_503_problem_when_a_dependency_fails(gateway_settings: Settings) -> None:
    """A failing check turns /readyz into a 503 problem naming the check and its error."""
    platform = build_platform(gateway_settings)

    async def broken() -> None:
        raise ConnectionRefusedError("broker down")

    platform.readiness["broker"] = broken
    app = create_app(gateway_settings, platform=platform)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g")
    async with app.router.lifespan_context(app), http:
        response = await http.get("/readyz")
    await platform.aclose()
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "service-unavailable"
    assert body["checks"]["database"] == "ok"
    assert "ConnectionRefusedError: broker down" in body["checks"]["broker"]


async def test_unknown_route_is_a_not_found_problem(client: httpx.AsyncClient) -> None:
    """404s use the problem shape with a stable type and the request path."""
    response = await client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "https://folio.dev/problems/not-found"
    assert body["instance"] == "/no/such/thing"
    assert body["correlation_id"] == response.headers["x-request-id"]


async def test_wrong_method_is_a_method_not_allowed_problem(client: httpx.AsyncClient) -> None:
    """405s keep the Allow header and use the problem shape."""
    response = await client.delete("/healthz")
    assert response.status_code == 405
    assert response.json()["code"] == "method-not-allowed"
    assert "GET" in response.headers["allow"]


async def test_invalid_body_lists_every_invalid_field(client: httpx.AsyncClient) -> None:
    """Validation errors are a 422 problem listing each invalid input by location."""
    response = await client.post("/test/shelves", json={"name": "", "capacity": 0})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation-failed"
    assert {error["name"] for error in body["errors"]} == {"body.name", "body.capacity"}


async def test_malformed_json_is_a_validation_problem(client: httpx.AsyncClient) -> None:
    """A body that is not JSON is reported, not crashed on."""
    response = await client.post(
        "/test/shelves", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation-failed"


async def test_domain_errors_map_to_their_problem(client: httpx.AsyncClient) -> None:
    """A FolioError becomes its status and code, with its extra members."""
    response = await client.get("/test/conflict")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict"
    assert body["detail"] == "shelf 'fiction' exists"
    assert body["shelf"] == "fiction"


async def test_rate_limit_sets_retry_after(client: httpx.AsyncClient) -> None:
    """A rate-limited problem carries Retry-After in the header and the body."""
    response = await client.get("/test/limited")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "17"
    assert response.json()["retry_after_s"] == 17


async def test_crash_is_a_500_problem_that_hides_the_cause(client: httpx.AsyncClient, log_file: Path) -> None:
    """An unexpected exception answers 500 without leaking its message, and logs it with the id."""
    response = await client.get("/test/crash", headers={"X-Request-ID": "crash-1"})
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "internal-error"
    assert body["correlation_id"] == "crash-1"
    assert "exploded" not in response.text
    errors = [line for line in _lines(log_file) if line["event"] == "http.unhandled_error"]
    assert errors[0]["correlation_id"] == "crash-1"
    assert "the database exploded" in str(errors[0]["exception"])


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    """A safe X-Request-ID is echoed; an unsafe or missing one is replaced by a fresh id."""
    echoed = await client.get("/healthz", headers={"X-Request-ID": "order-42.retry:1"})
    assert echoed.headers["x-request-id"] == "order-42.retry:1"
    forged = await client.get("/healthz", headers={"X-Request-ID": 'x" level="critical'})
    assert forged.headers["x-request-id"] != 'x" level="critical'
    assert len(forged.headers["x-request-id"]) == 32
    fresh = await client.get("/healthz")
    assert len(fresh.headers["x-request-id"]) == 32


async def test_every_line_of_a_request_carries_its_correlation_id(
    client: httpx.AsyncClient, log_file: Path
) -> None:
    """Handler, spawned task, thread-pool call, background task and access line share the id."""
    trace = "0af7651916cd43dd8448eb211c80319c"
    response = await client.get(
        "/test/work", headers={"X-Request-ID": "req-77", "traceparent": f"00-{trace}-b7ad6b7169203331-01"}
    )
    assert response.status_code == 200
    lines = [line for line in _lines(log_file) if line.get("correlation_id") == "req-77"]
    events = {line["event"] for line in lines}
    assert {"test.handler", "test.spawned_task", "test.thread", "test.background", "http.request"} <= events
    assert all(line["trace_id"] == trace for line in lines)
    assert all(line["service"] == "gateway" for line in lines)


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    """/metrics exposes request counts labelled by route template, not raw path."""
    await client.get("/healthz")
    await client.get("/no/such/thing")
    text = (await client.get("/metrics")).text
    assert 'folio_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'route="unmatched",status="404"' in text
    assert "folio_http_request_duration_seconds_bucket" in text


async def test_metrics_in_openmetrics_link_a_latency_bucket_to_the_requests_trace(
    client: httpx.AsyncClient,
) -> None:
    """Asked for OpenMetrics, /metrics carries the traced request's id as an exemplar, and one ``# EOF``."""
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    await client.get("/healthz", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})

    open_metrics = await client.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    classic = (await client.get("/metrics")).text

    assert open_metrics.headers["content-type"].startswith("application/openmetrics-text")
    buckets = [
        line
        for line in open_metrics.text.splitlines()
        if line.startswith("folio_http_request_duration_seconds_bucket") and 'route="/healthz"' in line
    ]
    assert any(f'# {{trace_id="{trace_id}"}}' in line for line in buckets), buckets
    assert open_metrics.text.count("# EOF") == 1
    assert "# EOF" not in classic
    assert "trace_id" not in classic  # the classic text format has no exemplars


async def test_openapi_documents_health_and_the_problem_shape(client: httpx.AsyncClient) -> None:
    """The OpenAPI document lists /healthz and /readyz and the Problem schema."""
    spec = (await client.get("/openapi.json")).json()
    assert {"/healthz", "/readyz", "/metrics"} <= set(spec["paths"])
    assert "Problem" in spec["components"]["schemas"]


@pytest.mark.usefixtures("clean_env")
async def test_docs_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """FOLIO_GATEWAY_DOCS_ENABLED=false removes /docs and /openapi.json."""
    monkeypatch.setenv("FOLIO_GATEWAY_DOCS_ENABLED", "false")
    app = create_app(load_settings(env_file=None))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as http:
        assert (await http.get("/docs")).status_code == 404
        assert (await http.get("/openapi.json")).status_code == 404


async def test_platform_closes_with_the_app(gateway_settings: Settings) -> None:
    """The lifespan builds the platform and disposes its engines at shutdown."""
    app = create_app(gateway_settings)
    async with app.router.lifespan_context(app):
        platform: Platform = app.state.platform
        await platform.database.ping()
    pool = platform.database.primary.pool
    assert isinstance(pool, QueuePool)
    assert pool.checkedout() == 0


async def test_metrics_export_the_database_breaker_state(app: FastAPI, client: httpx.AsyncClient) -> None:
    """/metrics reports the primary's circuit breaker: 0 while closed, 2 once it has opened."""
    closed = (await client.get("/metrics")).text
    assert 'folio_db_breaker_state{engine="primary"} 0.0' in closed
    assert 'engine="replica"' not in closed
    platform: Platform = app.state.platform
    breaker = platform.database.primary_breaker
    for _ in range(breaker.failure_threshold):
        breaker.record_failure(breaker.admit())
    opened = (await client.get("/metrics")).text
    assert 'folio_db_breaker_state{engine="primary"} 2.0' in opened


@pytest.mark.parametrize("freeze_heap", [False, True])
async def test_only_the_gateways_own_process_freezes_the_heap(
    gateway_settings: Settings, freeze_heap: bool
) -> None:
    """An app a test builds leaves the process's heap alone; ``python -m`` asks for the freeze."""
    app = create_app(gateway_settings, freeze_heap=freeze_heap)
    async with app.router.lifespan_context(app):
        frozen_while_serving = gc.get_freeze_count()
    assert (frozen_while_serving > 0, gc.get_freeze_count()) == (freeze_heap, 0)
