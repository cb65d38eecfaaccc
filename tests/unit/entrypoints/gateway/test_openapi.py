"""The OpenAPI document tells the truth about errors: one media type, and the problems every route shares."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from folio.bootstrap import build_platform
from folio.core.db import Database
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings, load_settings
from folio.entrypoints.gateway import create_app

pytestmark = pytest.mark.unit

Operation = tuple[str, str, dict[str, Any]]


@pytest.fixture
def gateway_settings(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with SQLite in the test's own folder, counters in memory, and no .env file."""
    monkeypatch.setenv("FOLIO_CACHE_BACKEND", "memory")
    return load_settings(env_file=clean_env / "absent.env")


@pytest.fixture
def document(gateway_settings: Settings) -> dict[str, Any]:
    """The gateway's whole OpenAPI document, as /openapi.json serves it."""
    schema: dict[str, Any] = create_app(gateway_settings).openapi()
    return schema


def operations(document: dict[str, Any]) -> Iterator[Operation]:
    """Every (method, path, operation) in the document."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_every_error_response_is_problem_json(document: dict[str, Any]) -> None:
    """Each 4xx/5xx response of every operation is application/problem+json with the Problem schema, only."""
    wrong = [
        (method, path, status, sorted(response.get("content", {})))
        for method, path, operation in operations(document)
        for status, response in operation["responses"].items()
        if status[0] in "45"
        and response.get("content")
        != {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    ]

    assert wrong == []
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "errors" in document["components"]["schemas"]["Problem"]["properties"]


def test_every_route_with_a_body_documents_400_and_413(document: dict[str, Any]) -> None:
    """An unreadable body (400) and one over the limit (413) are documented wherever a body is taken."""
    with_body = [(method, path, op) for method, path, op in operations(document) if "requestBody" in op]
    missing = [(method, path) for method, path, op in with_body if not {"400", "413"} <= set(op["responses"])]

    assert len(with_body) > 10
    assert missing == []
    token = document["paths"]["/api/v1/auth/token"]["post"]["responses"]["413"]["description"]
    assert "16384-byte limit" in token


def _is_stream(operation: dict[str, Any]) -> bool:
    """An event stream (the live dashboard's SSE): authenticated once from its token, never metered."""
    return "text/event-stream" in operation["responses"].get("200", {}).get("content", {})


def test_every_api_route_documents_database_unavailable(document: dict[str, Any]) -> None:
    """Every /api route but a stream reaches the database (metering): 503 database-unavailable."""
    api = [
        (method, path, op)
        for method, path, op in operations(document)
        if path.startswith("/api/") and not _is_stream(op)
    ]
    undocumented = [
        (method, path)
        for method, path, op in api
        if "database-unavailable" not in op["responses"].get("503", {}).get("description", "")
        or "Retry-After" not in op["responses"]["503"].get("headers", {})
    ]

    assert undocumented == []
    assert [path for _, path, op in operations(document) if _is_stream(op)] == ["/api/v1/live/events"]
    assert "/healthz" in document["paths"]
    assert "503" not in document["paths"]["/healthz"]["get"]["responses"]


def test_deletes_and_unlock_document_422_as_a_problem(document: dict[str, Any]) -> None:
    """The fuzzer's finding: FastAPI's own 422 on DELETEs and unlock is now problem+json."""
    paths = document["paths"]
    for response in (
        paths["/api/v1/members/{user_id}"]["delete"]["responses"]["422"],
        paths["/api/v1/api-keys/{key_id}"]["delete"]["responses"]["422"],
        paths["/api/v1/members/{user_id}/unlock"]["post"]["responses"]["422"],
    ):
        assert list(response["content"]) == ["application/problem+json"]


@pytest.fixture
async def client(gateway_settings: Settings, clean_env: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client for the gateway on an unmigrated SQLite file (no route gets that far)."""
    database = Database.from_urls(gateway_settings.database, f"sqlite+aiosqlite:///{clean_env / 'g.db'}")
    platform = build_platform(gateway_settings, database=database, rate_limiter=RateLimiter("memory://"))
    app = create_app(gateway_settings, platform=platform)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
                yield http
    finally:
        await database.dispose()


async def test_the_documented_400_is_what_an_unreadable_body_gets(client: httpx.AsyncClient) -> None:
    """A JSON body that is not UTF-8 gets the documented 400 bad-request problem, not a 500."""
    response = await client.post(
        "/api/v1/auth/token", content=b'{"email": "\xff"}', headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "bad-request"
    served = (await client.get("/openapi.json")).json()
    assert "bad-request" in served["paths"]["/api/v1/auth/token"]["post"]["responses"]["400"]["description"]
