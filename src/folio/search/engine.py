"""An async Typesense client on httpx, speaking only the parts of the 0.24 API Folio uses.

The official ``typesense`` package is synchronous; the gateway is async, so this thin
client talks HTTP itself. It owns three concerns and nothing else:

- **Error mapping.** A refused connection, a timeout or a 503 from the server becomes
  ``SearchUnavailableError`` (503 problem ``search-unavailable``); a 404 becomes
  ``EngineNotFoundError`` (callers that expect absence catch it); any other error
  status becomes ``SearchEngineError`` (502) carrying the server's message.
- **Retries.** Idempotent reads (``GET``, searches) are retried by tenacity on
  connection errors and 503s, a few times with a short exponential wait; writes are not
  retried here (the outbox sync retries them with its own backoff).
- **Scoped keys.** ``generate_scoped_key`` is Typesense's documented algorithm, done
  locally: ``base64(base64(HMAC-SHA256(key, params)) + key[:4] + params)``.

Names of collections and aliases are the caller's business (``folio.search.indexes``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
import structlog
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from folio.core.errors import FolioError, ServiceUnavailableError
from folio.core.settings import Settings

__all__ = [
    "EngineNotFoundError",
    "SearchEngine",
    "SearchEngineError",
    "SearchUnavailableError",
    "generate_scoped_key",
    "open_engine",
]

log = structlog.get_logger(__name__)

Json = dict[str, Any]


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


class SearchEngine:
    """One Typesense server, with the admin key. Open with ``open_engine`` or ``async with``."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout_s: float = 5.0,
        read_attempts: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._api_key = api_key
        self._read_attempts = read_attempts
        self._client = httpx.AsyncClient(
            base_url=self.url,
            headers={"X-TYPESENSE-API-KEY": api_key},
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
        )

    @property
    def admin_key(self) -> str:
        """The admin key this client authenticates with (for deriving the search-only key)."""
        return self._api_key

    async def __aenter__(self) -> SearchEngine:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    # --- transport ----------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        content: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        try:
            response = await self._client.request(
                method, path, json=json_body, params=params, content=content, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise SearchUnavailableError(
                f"the search engine at {self.url} did not answer in time ({type(exc).__name__})"
            ) from exc
        except httpx.TransportError as exc:
            raise SearchUnavailableError(
                f"the search engine at {self.url} cannot be reached ({type(exc).__name__}: {exc})"
            ) from exc
        _raise_for_status(response, method, path)
        return response

    async def _read(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json_body: Any = None
    ) -> Any:
        """An idempotent request: retried on transient failures, JSON body returned."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_RetryableError),
            stop=stop_after_attempt(self._read_attempts),
            wait=wait_exponential(multiplier=0.05, max=0.5),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    try:
                        response = await self._send(method, path, params=params, json_body=json_body)
                    except SearchUnavailableError as exc:
                        raise _RetryableError(exc) from exc
        except _RetryableError as exc:
            raise exc.error from exc.__cause__
        return response.json()

    async def _write(self, method: str, path: str, *, json_body: Any = None) -> Any:
        response = await self._send(method, path, json_body=json_body)
        return response.json()

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
            "POST",
            f"/collections/{collection}/documents/import",
            content=lines,
            params={"action": action},
            headers={"Content-Type": "text/plain"},
        )
        results = [json.loads(line) for line in response.text.splitlines() if line.strip()]
        return [result for result in results if not result.get("success", False)]

    async def upsert_document(self, collection: str, document: Json) -> None:
        """Create or replace one document."""
        response = await self._send(
            "POST", f"/collections/{collection}/documents", json_body=document, params={"action": "upsert"}
        )
        response.json()

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
        try:
            async with self._client.stream(
                "GET", path, params={"include_fields": include_fields}
            ) as response:
                if not response.is_success:
                    await response.aread()
                    _raise_for_status(response, "GET", path)
                async for line in response.aiter_lines():
                    if line.strip():
                        yield cast("Json", json.loads(line))
        except httpx.TransportError as exc:
            raise SearchUnavailableError(
                f"the search engine at {self.url} cannot be reached ({type(exc).__name__}: {exc})"
            ) from exc

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


def _raise_for_status(response: httpx.Response, method: str, path: str) -> None:
    """Map an error status onto Folio's errors (see the module docstring); nothing for a success."""
    if response.is_success:
        return
    message = _message_of(response)
    if response.status_code == httpx.codes.NOT_FOUND:
        raise EngineNotFoundError(message)
    if response.status_code == httpx.codes.SERVICE_UNAVAILABLE:
        raise SearchUnavailableError(f"the search engine is not ready: {message}")
    raise SearchEngineError(
        f"the search engine refused {method} {path} ({response.status_code}): {message}",
        engine_status=response.status_code,
    )


def _message_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict) and "message" in body:
        return str(body["message"])
    return response.text[:300]


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
