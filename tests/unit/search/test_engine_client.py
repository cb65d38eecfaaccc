"""The async Typesense client without a server: scoped-key format, error mapping, read retries, export."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from folio.search.api import SearchEngine, SearchEngineError, SearchUnavailableError, generate_scoped_key
from folio.search.engine import EngineNotFoundError, EngineRequest, MockTransport, StreamedResponse

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

    def __call__(self, _request: EngineRequest) -> tuple[int, object]:
        self.calls += 1
        return self.status, self.body


async def test_reads_retry_a_503_then_raise_search_unavailable() -> None:
    """A GET answered 503 is tried read_attempts times, then raises the 503 problem."""
    counting = _Counting(503, {"message": "Not Ready or Lagging"})
    async with SearchEngine(
        "http://e.test", "k", transport=MockTransport(counting), read_attempts=3
    ) as engine:
        with pytest.raises(SearchUnavailableError) as caught:
            await engine.search("c", {"q": "*"})
    assert counting.calls == 3
    assert "Not Ready or Lagging" in (caught.value.detail or "")


async def test_writes_are_not_retried() -> None:
    """A write answered 503 fails at once (the outbox sync owns write retries)."""
    counting = _Counting(503)
    async with SearchEngine("http://e.test", "k", transport=MockTransport(counting)) as engine:
        with pytest.raises(SearchUnavailableError):
            await engine.upsert_document("c", {"id": "1"})
    assert counting.calls == 1


@pytest.mark.parametrize(
    ("status", "error"), [(404, EngineNotFoundError), (400, SearchEngineError), (409, SearchEngineError)]
)
async def test_error_statuses_map_to_folio_errors(status: int, error: type[SearchEngineError]) -> None:
    """404 is EngineNotFoundError; other refusals are SearchEngineError carrying the engine's message."""
    counting = _Counting(status, {"message": "Could not find a field named `x`"})
    async with SearchEngine("http://e.test", "k", transport=MockTransport(counting)) as engine:
        with pytest.raises(error) as caught:
            await engine.search("c", {"q": "*"})
    assert "Could not find a field named `x`" in (caught.value.detail or "")
    assert counting.calls == 1


async def test_admin_key_is_sent_on_every_request() -> None:
    """Every request carries X-TYPESENSE-API-KEY."""
    seen: list[str | None] = []

    def handler(request: EngineRequest) -> tuple[int, object]:
        seen.append(request.headers.get("X-TYPESENSE-API-KEY"))
        return 200, {"ok": True}

    async with SearchEngine("http://e.test", "secret", transport=MockTransport(handler)) as engine:
        assert await engine.health() is True
    assert seen == ["secret"]


async def test_a_read_that_fails_once_is_answered_by_its_retry() -> None:
    """A transient failure on the first attempt is retried, and the retry's body returned."""
    answers = iter([(503, {"message": "Not Ready or Lagging"}), (200, {"ok": True})])
    calls: list[str] = []

    def handler(request: EngineRequest) -> tuple[int, object]:
        calls.append(request.path)
        return next(answers)

    async with SearchEngine("http://e.test", "k", transport=MockTransport(handler)) as engine:
        assert await engine.health() is True
    assert calls == ["/health", "/health"]


@pytest.mark.parametrize(
    ("failure", "meaning"),
    [
        (TimeoutError(), "did not answer in time"),
        (aiohttp.ClientConnectionError("refused"), "cannot be reached"),
        (ConnectionRefusedError(111, "refused"), "cannot be reached"),
    ],
)
async def test_transport_failures_are_search_unavailable(failure: Exception, meaning: str) -> None:
    """Timeouts and unreachable engines raise the 503 problem after every read attempt."""
    calls = 0

    def handler(_request: EngineRequest) -> tuple[int, object]:
        nonlocal calls
        calls += 1
        raise failure

    async with SearchEngine(
        "http://e.test", "k", transport=MockTransport(handler), read_attempts=2
    ) as engine:
        with pytest.raises(SearchUnavailableError) as caught:
            await engine.search("c", {"q": "*"})
    assert calls == 2
    assert meaning in (caught.value.detail or "")


async def test_query_parameters_are_sent_as_strings() -> None:
    """Parameters reach the transport as strings, booleans lowercase (as Typesense spells them)."""
    seen: list[object] = []

    def handler(request: EngineRequest) -> tuple[int, object]:
        seen.append(request.params)
        return 200, {"hits": []}

    async with SearchEngine("http://e.test", "k", transport=MockTransport(handler)) as engine:
        await engine.search("c", {"q": "war and peace", "per_page": 10, "prefix": False})
    assert seen == [{"q": "war and peace", "per_page": "10", "prefix": "false"}]


class _Chunked(MockTransport):
    """A mock whose streamed bodies arrive a few bytes at a time, cutting lines anywhere."""

    @asynccontextmanager
    async def stream(self, request: EngineRequest) -> AsyncIterator[StreamedResponse]:
        response = await self.send(request)

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(response.body), 7):
                yield response.body[start : start + 7]

        yield StreamedResponse(response.status, response.reason, chunks())


async def test_export_yields_each_jsonl_line_whatever_the_chunking() -> None:
    """An export's JSONL body becomes one document per non-blank line, lines split across chunks."""
    documents = [{"id": str(n), "title": f"Title number {n}"} for n in range(5)]
    body = "\n".join(json.dumps(document) for document in documents) + "\n\n"
    async with SearchEngine("http://e.test", "k", transport=_Chunked(lambda _r: (200, body))) as engine:
        exported = [doc async for doc in engine.export_documents("c", include_fields="id,title")]
    assert exported == documents


async def test_export_of_a_missing_collection_is_not_found() -> None:
    """An export answered 404 raises EngineNotFoundError with the engine's message."""
    transport = MockTransport(lambda _r: (404, {"message": "Collection not found"}))
    async with SearchEngine("http://e.test", "k", transport=transport) as engine:
        with pytest.raises(EngineNotFoundError) as caught:
            [doc async for doc in engine.export_documents("c", include_fields="id")]
    assert "Collection not found" in (caught.value.detail or "")


async def test_closing_a_client_that_never_sent_anything_is_safe() -> None:
    """Closing the default (aiohttp) transport before any request, or twice, raises nothing."""
    engine = SearchEngine("http://e.test", "k")
    await engine.aclose()
    await engine.aclose()
