"""The gateway's side of database resilience: 503 problems, Retry-After, per-request read-your-writes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from structlog.testing import capture_logs

from folio.bootstrap import build_platform
from folio.core.db import Database
from folio.core.errors import DatabaseUnavailableError
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings, load_settings
from folio.entrypoints.gateway import create_app

pytestmark = pytest.mark.unit


def _add_routes(app: FastAPI) -> None:
    @app.get("/test/db-down")
    async def db_down() -> None:
        raise DatabaseUnavailableError("the primary database is failing", retry_after_s=7)

    @app.get("/test/db-unreachable")
    async def db_unreachable() -> None:
        raise DatabaseUnavailableError("the database could not be reached (3 tries)")

    @app.post("/test/notes")
    async def write_then_route(request: Request) -> dict[str, str]:
        database: Database = request.app.state.platform.database

        async def touch(session: AsyncSession) -> None:
            await session.execute(text("SELECT 1"))

        await database.run(touch)
        return {"reads_go_to": _reads_go_to(database)}

    @app.get("/test/route")
    async def route(request: Request) -> dict[str, str]:
        return {"reads_go_to": _reads_go_to(request.app.state.platform.database)}


def _reads_go_to(database: Database) -> str:
    return "primary" if database.sessions(readonly=True).kw["bind"] is database.primary else "replica"


@pytest.fixture
def gateway_settings(clean_env: Path) -> Settings:
    """Settings with SQLite in the test's own folder and no .env file."""
    return load_settings(env_file=clean_env / "absent.env")


@pytest.fixture
async def database(gateway_settings: Settings, clean_env: Path) -> AsyncIterator[Database]:
    """A primary and a 'replica' as two SQLite files, so routing is visible."""
    db = Database.from_urls(
        gateway_settings.database,
        f"sqlite+aiosqlite:///{clean_env / 'primary.db'}",
        f"sqlite+aiosqlite:///{clean_env / 'replica.db'}",
    )
    yield db
    await db.dispose()


@pytest.fixture
async def client(gateway_settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client for an app wired to ``database``."""
    platform = build_platform(gateway_settings, database=database, rate_limiter=RateLimiter("memory://"))
    app = create_app(gateway_settings, platform=platform)
    _add_routes(app)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http


async def test_database_unavailable_is_a_503_problem_with_retry_after(client: httpx.AsyncClient) -> None:
    """DatabaseUnavailableError raised in a route becomes a 503 problem+json with code and Retry-After."""
    response = await client.get("/test/db-down")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "7"
    body = response.json()
    assert body["code"] == "database-unavailable"
    assert body["type"] == "https://folio.dev/problems/database-unavailable"
    assert body["retry_after_s"] == 7
    assert body["detail"] == "the primary database is failing"
    assert body["correlation_id"] == response.headers["x-request-id"]


async def test_unreachable_database_has_no_retry_after(client: httpx.AsyncClient) -> None:
    """Without a known reopening time the 503 carries no Retry-After header."""
    response = await client.get("/test/db-unreachable")

    assert response.status_code == 503
    assert response.json()["code"] == "database-unavailable"
    assert "retry-after" not in response.headers


async def test_open_breaker_turns_database_work_into_a_503(
    client: httpx.AsyncClient, database: Database
) -> None:
    """A route's ``Database.run`` while the primary's breaker is open answers 503 with Retry-After."""
    breaker = database.primary_breaker
    for _ in range(breaker.failure_threshold):
        breaker.record_failure(breaker.admit())

    response = await client.post("/test/notes")

    assert response.status_code == 503
    assert response.json()["code"] == "database-unavailable"
    assert 1 <= int(response.headers["retry-after"]) <= breaker.reset_timeout_s


async def test_read_your_writes_lasts_one_request(client: httpx.AsyncClient) -> None:
    """A request that committed reads from the primary; the next request reads the replica again."""
    before = await client.get("/test/route")
    wrote = await client.post("/test/notes")
    after = await client.get("/test/route")

    assert before.json() == {"reads_go_to": "replica"}
    assert wrote.json() == {"reads_go_to": "primary"}
    assert after.json() == {"reads_go_to": "replica"}


async def test_a_503_is_logged_at_info_not_error(client: httpx.AsyncClient) -> None:
    """An outage answers many requests with 503: each is an info line, none an error."""
    with capture_logs() as logs:
        for _ in range(3):
            assert (await client.get("/test/db-down")).status_code == 503

    levels = {(entry["event"], entry["log_level"]) for entry in logs}
    assert levels == {("http.dependency_unavailable", "info"), ("http.request", "info")}


async def ok() -> None:
    """A readiness check that passes."""


async def down() -> None:
    """A readiness check that fails the way an unreachable server does."""
    raise ConnectionRefusedError("connect call failed")


async def readiness_with(
    gateway_settings: Settings, database: Database, checks: dict[str, Callable[[], Awaitable[None]]]
) -> httpx.Response:
    """GET /readyz from a gateway whose platform has exactly these readiness checks."""
    platform = build_platform(
        gateway_settings,
        database=database,
        rate_limiter=RateLimiter("memory://"),
    )
    platform.readiness = checks
    app = create_app(gateway_settings, platform=platform)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            return await http.get("/readyz")


async def test_readyz_is_degraded_not_failed_while_one_database_engine_answers(
    gateway_settings: Settings, database: Database
) -> None:
    """Primary down, replica up (or the reverse): 200 degraded with the checks, so the balancer keeps it."""
    for primary, replica in ((down, ok), (ok, down)):
        checks: dict[str, Callable[[], Awaitable[None]]] = {
            "database": primary,
            "database-replica": replica,
            "cache": ok,
        }
        response = await readiness_with(gateway_settings, database, checks)

        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "degraded"
        failed = "database" if primary is down else "database-replica"
        assert body["checks"][failed].startswith("failed: ConnectionRefusedError")
        assert {name for name, value in body["checks"].items() if value == "ok"} == set(checks) - {failed}


@pytest.mark.parametrize(
    ("primary", "replica", "cache"),
    [(down, down, ok), (ok, ok, down), (down, None, ok)],
    ids=["both-engines-down", "cache-down", "primary-down-no-replica"],
)
async def test_readyz_is_503_when_the_process_can_serve_nothing(
    gateway_settings: Settings,
    database: Database,
    primary: Callable[[], Awaitable[None]],
    replica: Callable[[], Awaitable[None]] | None,
    cache: Callable[[], Awaitable[None]],
) -> None:
    """No database engine answers, or the cache every API request needs is down: 503, out of rotation."""
    checks: dict[str, Callable[[], Awaitable[None]]] = {"database": primary, "cache": cache}
    if replica is not None:
        checks["database-replica"] = replica

    response = await readiness_with(gateway_settings, database, checks)

    assert response.status_code == 503
    assert response.json()["code"] == "service-unavailable"
