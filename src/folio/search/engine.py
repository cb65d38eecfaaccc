"""An async Typesense client on aiohttp, speaking only the parts of the 0.24 API Folio uses.

The official ``typesense`` package is synchronous; the gateway is async, so this thin
client talks HTTP itself, through aiohttp (a search costs about a third of the client
CPU it did on httpx's ``AsyncClient``, see docs/search.md). It owns four concerns and
nothing else:

- **Error mapping.** A refused connection, a timeout or a 503 from the server becomes
  ``SearchUnavailableError`` (503 problem ``search-unavailable``); a 404 becomes
  ``EngineNotFoundError`` (callers that expect absence catch it); any other error
  status becomes ``SearchEngineError`` (502) carrying the server's message.
- **Retries.** Idempotent reads (``GET``, searches) are retried by tenacity on
  connection errors and 503s, a few times with a short exponential wait; writes are not
  retried here (the outbox sync retries them with its own backoff).
- **Event loops.** aiohttp's session belongs to the loop it was opened on, and a process
  may run several loops in turn (each test has its own; CLI commands ``asyncio.run``):
  ``AiohttpTransport`` opens its session on first use and a new one when used from
  another loop (see ``Transport``).
- **Scoped keys.** ``generate_scoped_key`` is Typesense's documented algorithm, done
  locally: ``base64(base64(HMAC-SHA256(key, params)) + key[:4] + params)``.

The HTTP seam is ``Transport``: ``AiohttpTransport`` by default, ``MockTransport`` (a
function answering requests, no sockets) in tests. Names of collections and aliases are
the caller's business (``folio.search.indexes``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, NamedTuple, Protocol, cast

import aiohttp
import structlog
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from folio.core.errors import FolioError, ServiceUnavailableError
from folio.core.settings import Settings

__all__ = [
    "AiohttpTransport",
    "EngineNotFoundError",
    "EngineRequest",
    "EngineResponse",
    "MockTransport",
    "SearchEngine",
    "SearchEngineError",
    "SearchUnavailableError",
    "StreamedResponse",
    "Transport",
    "generate_scoped_key",
    "open_engine",
]

log = structlog.get_logger(__name__)

Json = dict[str, Any]

_FIRST_RETRY_WAIT_S = 0.05
"""The wait before a read's second attempt; it doubles before each further one."""
_MAX_RETRY_WAIT_S = 0.5


class SearchUnavailableError(
    ServiceUnavailableError, code="search-unavailable", title="Search unavailable", status=503
):
    """The search engine cannot be reached (down, timing out, or not part of this deployment)."""


class SearchEngineError(FolioError, code="search-engine-error", title="Search engine error", status=502):
    """The search engine answered with an error Folio did not expect (a bug or a version mismatch)."""


class EngineNotFoundError(
    SearchEngineError, code="search-engine-not-found", title="Not found in the search engine", status=404
):
    """The engine has no such collection, alias, document, synonym or key (its 404)."""


class _RetryableError(Exception):
    """Internal: a transient failure tenacity should retry (wraps the mapped error)."""

    def __init__(self, error: SearchUnavailableError) -> None:
        super().__init__(str(error))
        self.error = error


def generate_scoped_key(search_key: str, parameters: Mapping[str, Any]) -> str:
    """A scoped search key embedding ``parameters`` (``filter_by``, ``expires_at``...).

    Typesense verifies the HMAC with the parent key (found by its first four characters)
    and applies the embedded parameters to every search made with the scoped key; a
    client cannot remove or widen an embedded ``filter_by`` (it is ANDed with its own).
    """
    params_json = json.dumps(dict(parameters), separators=(",", ":"), sort_keys=True)
    digest = base64.b64encode(
        hmac.new(search_key.encode(), params_json.encode(), hashlib.sha256).digest()
    ).decode()
    return base64.b64encode(f"{digest}{search_key[:4]}{params_json}".encode()).decode()


# --- the HTTP seam ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EngineRequest:
    """One request to the engine, as ``SearchEngine`` hands it to its ``Transport``.

    ``path`` is relative to the engine's URL (``/collections/c/documents/search``);
    ``params`` are the query parameters, already strings.
    """

    method: str
    path: str
    headers: Mapping[str, str]
    params: Mapping[str, str] | None = None
    body: bytes | None = None


class EngineResponse(NamedTuple):
    """A whole answer: status, reason phrase and body."""

    status: int
    reason: str
    body: bytes


class StreamedResponse(NamedTuple):
    """An answer whose body is read as it arrives, in chunks of any size."""

    status: int
    reason: str
    chunks: AsyncIterator[bytes]


class Transport(Protocol):
    """How ``SearchEngine`` reaches the engine over HTTP: the seam a test replaces.

    - ``send`` makes one request and returns the whole answer, whatever its status
      (mapping statuses onto errors is the client's job, not the transport's).
    - ``stream`` makes one request and, inside the block, yields the answer with its
      body still arriving, as an async iterator of byte chunks.
    - Both raise ``TimeoutError`` when the engine does not answer in time, and
      ``aiohttp.ClientError`` or ``OSError`` when it cannot be reached; the client turns
      either into ``SearchUnavailableError``.
    - ``aclose`` releases the connections. The transport must still work after it
      (opening new ones), and from whichever event loop calls it next: a process may run
      several loops in turn, and one client serves them all.
    """

    async def send(self, request: EngineRequest) -> EngineResponse:
        """Send ``request`` and read the whole answer."""
        ...

    def stream(self, request: EngineRequest) -> AbstractAsyncContextManager[StreamedResponse]:
        """Send ``request`` and yield the answer with its body still to read."""
        ...

    async def aclose(self) -> None:
        """Release the connections (a later request opens new ones)."""
        ...


_UNCOMPRESSED = {"Accept-Encoding": "identity"}


class AiohttpTransport:
    """The real transport: an aiohttp ``ClientSession`` (one connection pool) on ``base_url``.

    aiohttp opens a session only inside a running loop, and a session serves only the
    loop it was opened on. So the session is opened on first use, and again after
    ``aclose`` or when the running loop is another one. An old session whose loop is
    closed is closed here (aiohttp does that without I/O); one whose loop is still open
    may be in use there, and touching it from this loop would be unsafe, so the call
    raises ``RuntimeError`` instead (``aclose`` the client on its own loop first).

    ``timeout_s`` bounds connecting (the wait for a pooled connection included) and each
    wait for data, as httpx's timeouts did, not a whole answer: an export of a large
    collection may take longer than ``timeout_s`` without ever stalling that long.
    """

    def __init__(self, base_url: str, *, timeout_s: float) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=None, connect=timeout_s, sock_read=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def send(self, request: EngineRequest) -> EngineResponse:
        """``Transport.send`` on the running loop's session."""
        async with await self._request(request) as response:
            return EngineResponse(response.status, response.reason or "", await response.read())

    @asynccontextmanager
    async def stream(self, request: EngineRequest) -> AsyncIterator[StreamedResponse]:
        """``Transport.stream`` on the running loop's session."""
        async with await self._request(request) as response:
            yield StreamedResponse(response.status, response.reason or "", aiter(response.content.iter_any()))

    async def _request(self, request: EngineRequest) -> AbstractAsyncContextManager[aiohttp.ClientResponse]:
        session = self._session
        if session is None or session.closed or self._loop is not asyncio.get_running_loop():
            session = await self._open_session()
        return session.request(
            request.method,
            self._base_url + request.path,
            params=request.params,
            data=request.body,
            headers=request.headers,
        )

    async def aclose(self) -> None:
        """Close the session, if one is open (safe when none was ever opened)."""
        if self._session is None:
            return
        self._refuse_a_live_foreign_loop()
        session, self._session = self._session, None
        await session.close()

    async def _open_session(self) -> aiohttp.ClientSession:
        old = self._session
        if old is not None and not old.closed:
            self._refuse_a_live_foreign_loop()
        # Assigned before any await, so concurrent first requests share this session.
        # Uncompressed answers: aiohttp asks for gzip by default, and on a local network
        # the engine's compressing and Folio's inflating cost two CPUs for nothing.
        self._session = session = aiohttp.ClientSession(timeout=self._timeout, headers=_UNCOMPRESSED)
        self._loop = asyncio.get_running_loop()
        if old is not None:
            if not old.closed:
                # Its loop is closed: aiohttp closes the session without I/O, and Python
                # closes (and warns about) the pooled connections when they are collected.
                log.warning("search.engine.loop_closed_under_open_client", url=self._base_url)
            await old.close()
        return session

    def _refuse_a_live_foreign_loop(self) -> None:
        loop = self._loop
        if loop is not None and loop is not asyncio.get_running_loop() and not loop.is_closed():
            raise RuntimeError(
                "this search engine client's connections belong to another event loop, which is "
                "still open: close the client (aclose) on that loop before using it on this one"
            )


Handler = Callable[[EngineRequest], tuple[int, object]]
"""``MockTransport``'s answerer: a request to ``(status, body)``, the body ``bytes``, ``str``,
or any other value, which is sent as JSON."""


class MockTransport:
    """A transport answering every request with ``handler``, no sockets: the test double.

    ``handler`` may also raise what a real transport would (``TimeoutError``,
    ``aiohttp.ClientConnectionError``) to play a timeout or a refused connection.
    """

    def __init__(self, handler: Handler) -> None:
        self._handler = handler

    async def send(self, request: EngineRequest) -> EngineResponse:
        """``Transport.send``: the handler's answer."""
        status, body = self._handler(request)
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, bytes):
            body = json.dumps(body).encode()
        return EngineResponse(status, HTTPStatus(status).phrase, body)

    @asynccontextmanager
    async def stream(self, request: EngineRequest) -> AsyncIterator[StreamedResponse]:
        """``Transport.stream``: the handler's answer, its body in one chunk."""
        response = await self.send(request)

        async def chunks() -> AsyncIterator[bytes]:
            yield response.body

        yield StreamedResponse(response.status, response.reason, chunks())

    async def aclose(self) -> None:
        """Nothing to release."""


# --- the client ---------------------------------------------------------------------------------

_TRANSPORT_ERRORS = (aiohttp.ClientError, OSError)
"""What a transport raises when the engine cannot be reached (``TimeoutError`` is an ``OSError``)."""


class SearchEngine:
    """One Typesense server, with the admin key. Open with ``open_engine`` or ``async with``.

    ``transport`` replaces the HTTP layer (``MockTransport`` in tests); by default an
    ``AiohttpTransport`` whose timeouts are ``timeout_s``. One client may serve several
    event loops in turn (see ``AiohttpTransport``).
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout_s: float = 5.0,
        read_attempts: int = 3,
        transport: Transport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._api_key = api_key
        self._read_attempts = read_attempts
        self._transport = transport or AiohttpTransport(self.url, timeout_s=timeout_s)
        self._headers = {"X-TYPESENSE-API-KEY": api_key}
        self._json_headers = {**self._headers, "Content-Type": "application/json"}

    @property
    def admin_key(self) -> str:
        """The admin key this client authenticates with (for deriving the search-only key)."""
        return self._api_key

    async def __aenter__(self) -> SearchEngine:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (a later request opens a new one)."""
        await self._transport.aclose()

    # --- transport ----------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        text: str | None = None,
    ) -> EngineRequest:
        """The request to send; ``json_body`` goes as JSON, ``text`` as text/plain (JSONL)."""
        if json_body is not None:
            return EngineRequest(
                method, path, self._json_headers, _query(params), json.dumps(json_body).encode()
            )
        if text is not None:
            headers = {**self._headers, "Content-Type": "text/plain"}
            return EngineRequest(method, path, headers, _query(params), text.encode())
        return EngineRequest(method, path, self._headers, _query(params))

    async def _send(self, request: EngineRequest) -> EngineResponse:
        try:
            response = await self._transport.send(request)
        except _TRANSPORT_ERRORS as exc:
            raise self._unavailable(exc) from exc
        _raise_for_status(response, request.method, request.path)
        return response

    def _unavailable(self, exc: Exception) -> SearchUnavailableError:
        if isinstance(exc, TimeoutError):
            return SearchUnavailableError(
                f"the search engine at {self.url} did not answer in time ({type(exc).__name__})"
            )
        return SearchUnavailableError(
            f"the search engine at {self.url} cannot be reached ({type(exc).__name__}: {exc})"
        )

    async def _read(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json_body: Any = None
    ) -> Any:
        """An idempotent request: retried on transient failures, JSON body returned.

        ``read_attempts`` attempts in all, the waits between them exponential. The first
        goes straight out, since nearly every read succeeds at once; tenacity (whose
        set-up costs more than the request's own client work) takes over only after a
        transient failure.
        """
        request = self._request(method, path, params=params, json_body=json_body)
        try:
            return json.loads((await self._send(request)).body)
        except SearchUnavailableError:
            if self._read_attempts <= 1:
                raise
        await asyncio.sleep(_FIRST_RETRY_WAIT_S)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_RetryableError),
            stop=stop_after_attempt(self._read_attempts - 1),
            # Tenacity counts from the second attempt, so its first wait is the doubled one.
            wait=wait_exponential(multiplier=2 * _FIRST_RETRY_WAIT_S, max=_MAX_RETRY_WAIT_S),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    try:
                        response = await self._send(request)
                    except SearchUnavailableError as exc:
                        raise _RetryableError(exc) from exc
        except _RetryableError as exc:
            raise exc.error from exc.__cause__
        return json.loads(response.body)

    async def _write(
        self, method: str, path: str, *, json_body: Any = None, params: Mapping[str, Any] | None = None
    ) -> Any:
        response = await self._send(self._request(method, path, json_body=json_body, params=params))
        return json.loads(response.body)

    # --- server -------------------------------------------------------------------------------

    async def health(self) -> bool:
        """Whether the server says it is healthy (raises ``SearchUnavailableError`` when unreachable)."""
        body = await self._read("GET", "/health")
        return bool(body.get("ok"))

    # --- collections and aliases --------------------------------------------------------------

    async def create_collection(self, schema: Json) -> Json:
        """Create a collection from ``schema`` (Typesense's collection schema)."""
        return cast("Json", await self._write("POST", "/collections", json_body=schema))

    async def get_collection(self, name: str) -> Json | None:
        """The collection's description (with ``num_documents``), or None when there is none."""
        try:
            return cast("Json", await self._read("GET", f"/collections/{name}"))
        except EngineNotFoundError:
            return None

    async def list_collections(self) -> list[Json]:
        """Every collection on the server."""
        return cast("list[Json]", await self._read("GET", "/collections"))

    async def drop_collection(self, name: str) -> bool:
        """Delete a collection; False when it did not exist."""
        try:
            await self._write("DELETE", f"/collections/{name}")
        except EngineNotFoundError:
            return False
        return True

    async def get_alias(self, alias: str) -> str | None:
        """The collection ``alias`` points at, or None when there is no such alias."""
        try:
            body = await self._read("GET", f"/aliases/{alias}")
        except EngineNotFoundError:
            return None
        return str(body["collection_name"])

    async def list_aliases(self) -> dict[str, str]:
        """Every alias and its collection."""
        body = await self._read("GET", "/aliases")
        return {item["name"]: item["collection_name"] for item in body.get("aliases", [])}

    async def set_alias(self, alias: str, collection: str) -> None:
        """Point ``alias`` at ``collection`` (atomic on the server: readers see old or new)."""
        await self._write("PUT", f"/aliases/{alias}", json_body={"collection_name": collection})

    async def drop_alias(self, alias: str) -> bool:
        """Delete an alias (not its collection); False when it did not exist."""
        try:
            await self._write("DELETE", f"/aliases/{alias}")
        except EngineNotFoundError:
            return False
        return True

    # --- documents ----------------------------------------------------------------------------

    async def import_documents(
        self, collection: str, documents: Iterable[Json], *, action: str = "upsert"
    ) -> list[Json]:
        """Bulk-write ``documents`` (JSONL ``/documents/import``); returns the per-line failures.

        Typesense answers 200 even when some lines fail, one JSON result per line; the
        failures come back (``{"success": false, "error": ..., "document": ...}``) so the
        caller can say which documents were refused and why.
        """
        lines = "\n".join(json.dumps(doc, separators=(",", ":")) for doc in documents)
        if not lines:
            return []
        response = await self._send(
            self._request(
                "POST", f"/collections/{collection}/documents/import", text=lines, params={"action": action}
            )
        )
        results = [json.loads(line) for line in response.body.splitlines() if line.strip()]
        return [result for result in results if not result.get("success", False)]

    async def upsert_document(self, collection: str, document: Json) -> None:
        """Create or replace one document."""
        await self._write(
            "POST", f"/collections/{collection}/documents", json_body=document, params={"action": "upsert"}
        )

    async def delete_document(self, collection: str, document_id: str) -> bool:
        """Delete one document; False when it was not there."""
        try:
            await self._write("DELETE", f"/collections/{collection}/documents/{document_id}")
        except EngineNotFoundError:
            return False
        return True

    async def get_document(self, collection: str, document_id: str) -> Json | None:
        """One document by id, or None."""
        try:
            return cast("Json", await self._read("GET", f"/collections/{collection}/documents/{document_id}"))
        except EngineNotFoundError:
            return None

    async def search(self, collection: str, params: Mapping[str, Any]) -> Json:
        """``GET /collections/<c>/documents/search`` with ``params`` (a read: retried when transient)."""
        return cast(
            "Json",
            await self._read("GET", f"/collections/{collection}/documents/search", params=dict(params)),
        )

    async def export_documents(self, collection: str, *, include_fields: str) -> AsyncIterator[Json]:
        """Every document of ``collection`` with only ``include_fields``, streamed (JSONL ``/export``).

        Not retried: a failure midway would repeat what was already yielded.
        """
        path = f"/collections/{collection}/documents/export"
        request = self._request("GET", path, params={"include_fields": include_fields})
        try:
            async with self._transport.stream(request) as response:
                if not _succeeded(response.status):
                    body = b"".join([chunk async for chunk in response.chunks])
                    _raise_for_status(EngineResponse(response.status, response.reason, body), "GET", path)
                rest = b""
                async for chunk in response.chunks:
                    *lines, rest = (rest + chunk).split(b"\n")
                    for line in lines:
                        if line.strip():
                            yield cast("Json", json.loads(line))
                if rest.strip():
                    yield cast("Json", json.loads(rest))
        except _TRANSPORT_ERRORS as exc:
            raise self._unavailable(exc) from exc

    # --- synonyms -----------------------------------------------------------------------------

    async def upsert_synonym(
        self, collection: str, synonym_id: str, *, synonyms: list[str], root: str | None = None
    ) -> None:
        """Create or replace a synonym set (``root`` set: one-way, root -> synonyms)."""
        body: Json = {"synonyms": synonyms}
        if root:
            body["root"] = root
        await self._write("PUT", f"/collections/{collection}/synonyms/{synonym_id}", json_body=body)

    async def delete_synonym(self, collection: str, synonym_id: str) -> bool:
        """Delete a synonym set; False when it was not there."""
        try:
            await self._write("DELETE", f"/collections/{collection}/synonyms/{synonym_id}")
        except EngineNotFoundError:
            return False
        return True

    async def list_synonyms(self, collection: str) -> list[Json]:
        """The collection's synonym sets."""
        body = await self._read("GET", f"/collections/{collection}/synonyms")
        return cast("list[Json]", body.get("synonyms", []))

    # --- API keys -----------------------------------------------------------------------------

    async def list_keys(self) -> list[Json]:
        """Every API key (Typesense shows only each key's ``value_prefix``)."""
        body = await self._read("GET", "/keys")
        return cast("list[Json]", body.get("keys", []))

    async def create_key(self, spec: Json) -> Json:
        """Create an API key (``spec`` may carry its ``value``)."""
        return cast("Json", await self._write("POST", "/keys", json_body=spec))

    async def delete_key(self, key_id: int) -> bool:
        """Delete an API key; False when it did not exist."""
        try:
            await self._write("DELETE", f"/keys/{key_id}")
        except EngineNotFoundError:
            return False
        return True


def _query(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    """Query parameters as strings, as httpx wrote them (booleans lowercase, None empty)."""
    if not params:
        return None
    return {
        name: ("true" if value else "false")
        if isinstance(value, bool)
        else ("" if value is None else str(value))
        for name, value in params.items()
    }


def _succeeded(status: int) -> bool:
    return HTTPStatus.OK <= status < HTTPStatus.MULTIPLE_CHOICES


def _raise_for_status(response: EngineResponse, method: str, path: str) -> None:
    """Map an error status onto Folio's errors (see the module docstring); nothing for a success."""
    status = response.status
    if _succeeded(status):
        return
    message = _message_of(response)
    if status == HTTPStatus.NOT_FOUND:
        raise EngineNotFoundError(message)
    if status == HTTPStatus.SERVICE_UNAVAILABLE:
        raise SearchUnavailableError(f"the search engine is not ready: {message}")
    raise SearchEngineError(
        f"the search engine refused {method} {path} ({status}): {message}", engine_status=status
    )


def _message_of(response: EngineResponse) -> str:
    text = response.body.decode(errors="replace")
    try:
        body = json.loads(text)
    except ValueError:
        return text[:300] or response.reason
    if isinstance(body, dict) and "message" in body:
        return str(body["message"])
    return text[:300]


def engine_for(settings: Settings, **kwargs: Any) -> SearchEngine:
    """A client for the configured server (``services.search``) with the admin key."""
    cfg = settings.services.search
    return SearchEngine(cfg.url, cfg.api_key.get_secret_value(), **kwargs)


@asynccontextmanager
async def open_engine(settings: Settings, **kwargs: Any) -> AsyncIterator[SearchEngine]:
    """``engine_for`` as a context manager that closes the client."""
    engine = engine_for(settings, **kwargs)
    try:
        yield engine
    finally:
        await engine.aclose()
