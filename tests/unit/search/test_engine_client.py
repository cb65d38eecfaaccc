"""The async Typesense client without a server: scoped-key format, error mapping, read retries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx
import pytest

from folio.search.api import SearchEngine, SearchEngineError, SearchUnavailableError, generate_scoped_key
from folio.search.engine import EngineNotFoundError

pytestmark = pytest.mark.unit


def test_scoped_key_follows_the_documented_algorithm() -> None:
    """base64(base64(HMAC-SHA256(key, params)) + key[:4] + params), params as compact JSON."""
    key = "abcd" + "e" * 60
    scoped = base64.b64decode(
        generate_scoped_key(key, {"filter_by": "tenant_id:=x", "expires_at": 9})
    ).decode()
    digest, rest = scoped[:44], scoped[44:]
    assert rest[:4] == "abcd"
    params = rest[4:]
    assert json.loads(params) == {"filter_by": "tenant_id:=x", "expires_at": 9}
    expected = base64.b64encode(hmac.new(key.encode(), params.encode(), hashlib.sha256).digest()).decode()
    assert digest == expected


class _Counting:
    """A transport answering a fixed status, counting the calls."""

    def __init__(self, status: int, body: dict[str, object] | None = None) -> None:
        self.calls = 0
        self.status = status
        self.body = body or {"message": "nope"}

    def __call__(self, _request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return httpx.Response(self.status, json=self.body)


async def test_reads_retry_a_503_then_raise_search_unavailable() -> None:
    """A GET answered 503 is tried read_attempts times, then raises the 503 problem."""
    counting = _Counting(503, {"message": "Not Ready or Lagging"})
    async with SearchEngine(
        "http://e.test", "k", transport=httpx.MockTransport(counting), read_attempts=3
    ) as engine:
        with pytest.raises(SearchUnavailableError) as caught:
            await engine.search("c", {"q": "*"})
    assert counting.calls == 3
    assert "Not Ready or Lagging" in (caught.value.detail or "")


async def test_writes_are_not_retried() -> None:
    """A write answered 503 fails at once (the outbox sync owns write retries)."""
    counting = _Counting(503)
    async with SearchEngine("http://e.test", "k", transport=httpx.MockTransport(counting)) as engine:
        with pytest.raises(SearchUnavailableError):
            await engine.upsert_document("c", {"id": "1"})
    assert counting.calls == 1


@pytest.mark.parametrize(
    ("status", "error"), [(404, EngineNotFoundError), (400, SearchEngineError), (409, SearchEngineError)]
)
async def test_error_statuses_map_to_folio_errors(status: int, error: type[SearchEngineError]) -> None:
    """404 is EngineNotFoundError; other refusals are SearchEngineError carrying the engine's message."""
    counting = _Counting(status, {"message": "Could not find a field named `x`"})
    async with SearchEngine("http://e.test", "k", transport=httpx.MockTransport(counting)) as engine:
        with pytest.raises(error) as caught:
            await engine.search("c", {"q": "*"})
    assert "Could not find a field named `x`" in (caught.value.detail or "")
    assert counting.calls == 1


async def test_admin_key_is_sent_on_every_request() -> None:
    """Every request carries X-TYPESENSE-API-KEY."""
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("X-TYPESENSE-API-KEY"))
        return httpx.Response(200, json={"ok": True})

    async with SearchEngine("http://e.test", "secret", transport=httpx.MockTransport(handler)) as engine:
        assert await engine.health() is True
    assert seen == ["secret"]
