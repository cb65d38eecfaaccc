"""Shipping log lines to the search server (Typesense), the L3-20 stretch goal.

Lines are queued by a logging handler and sent in bulk (JSONL ``documents/import``)
from a daemon thread, so a slow or absent search server never blocks a request. The
queue is bounded: when the server is down for long, the oldest lines are dropped and
counted rather than letting memory grow; the file and stdout keep every line.

The collection holds every shop's lines and is for operators only: it is written and
read with the admin key, and no scoped key a shop can obtain reaches it
(``folio.search.keys`` lists each shop key's collections; tests try this one with a
key of every role).
"""

from __future__ import annotations

import json
import logging
import queue
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from folio.core.settings.logging import LoggingSettings
from folio.core.settings.services import SearchSettings

_SCHEMA_FIELDS: list[dict[str, str | bool]] = [
    {"name": "ts", "type": "string"},
    {"name": "ts_unix_us", "type": "int64"},
    {"name": "level", "type": "string", "facet": True},
    {"name": "event", "type": "string", "facet": True},
    {"name": "logger", "type": "string", "facet": True, "optional": True},
    {"name": "service", "type": "string", "facet": True, "optional": True},
    {"name": "correlation_id", "type": "string", "facet": True, "optional": True},
    {"name": "trace_id", "type": "string", "optional": True},
    {"name": "tenant_id", "type": "string", "facet": True, "optional": True},
    {"name": "context", "type": "string", "optional": True},
]
_TOP_LEVEL = {str(f["name"]) for f in _SCHEMA_FIELDS} - {"ts_unix_us", "context"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)
# How long close() waits for the sender thread; a hung server must not hang shutdown.
_JOIN_TIMEOUT_S = 5.0


def _unix_microseconds(ts: str) -> int | None:
    """Microseconds since the epoch of an ISO-8601 timestamp (naive ones are UTC), or None."""
    try:
        moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Exact integer arithmetic rather than trusting float rounding of timestamp() * 10**6.
    return (moment - _EPOCH) // _ONE_MICROSECOND


def to_search_document(line: dict[str, Any]) -> dict[str, Any]:
    """Map one JSON log line onto the collection's fixed schema.

    Event-specific fields go into ``context`` as a JSON string, so arbitrary log
    context can never break the collection's schema. A line without a parseable
    ``ts`` is stamped with the current time, so it still sorts sensibly.
    """
    doc: dict[str, Any] = {key: str(line[key]) for key in _TOP_LEVEL if line.get(key) is not None}
    doc.setdefault("event", "")
    doc.setdefault("level", "info")
    ts = str(line.get("ts") or "")
    micros = _unix_microseconds(ts)
    if micros is None:
        now = datetime.now(UTC)
        micros = (now - _EPOCH) // _ONE_MICROSECOND
        ts = ts or now.isoformat().replace("+00:00", "Z")
    doc["ts"] = ts
    doc["ts_unix_us"] = micros
    rest = {key: value for key, value in line.items() if key not in _TOP_LEVEL and key != "ts"}
    if rest:
        doc["context"] = json.dumps(rest, default=str, sort_keys=True)
    return doc


class SearchLogShipper(logging.Handler):
    """A logging handler that bulk-imports formatted JSON lines into Typesense.

    ``emit`` only queues the formatted line; a daemon thread (``start``) converts
    lines to documents and ships them every ``ship_interval_s`` or
    ``ship_batch_size`` lines. ``close`` ships what is left, trying once, so a down
    server delays shutdown by at most one failed request. ``shipped`` counts
    documents the server accepted, ``dropped`` those lost to a full queue, a
    malformed line, a rejection by the server, or a server still down at close.
    """

    def __init__(self, search: SearchSettings, settings: LoggingSettings, *, max_queue: int = 50_000) -> None:
        super().__init__()
        self.collection = settings.ship_collection
        self.batch_size = settings.ship_batch_size
        self.interval_s = settings.ship_interval_s
        self.dropped = 0
        self.shipped = 0
        self._queue: queue.Queue[str] = queue.Queue(maxsize=max_queue)
        self._stop = threading.Event()
        self._send_lock = threading.Lock()
        self._sending = threading.local()
        self._client = httpx.Client(
            base_url=search.url,
            headers={"X-TYPESENSE-API-KEY": search.api_key.get_secret_value()},
            timeout=httpx.Timeout(5.0, connect=1.0),
        )
        self._thread = threading.Thread(target=self._run, name="log-shipper", daemon=True)
        self._pending: list[str] = []
        self._collection_ready = False
        self._failing = False
        self._closed = False

    def start(self) -> None:
        """Start the background sender."""
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the formatted line; drop the oldest line when the queue is full.

        Records logged while this handler is sending (httpx logs each request) are
        not queued: shipping them would make every import produce the next line.
        """
        if getattr(self._sending, "active", False) or self._closed:
            return
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)
            return
        while True:
            try:
                self._queue.put_nowait(line)
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass
            else:
                return

    def flush(self) -> None:
        """Send everything queued now (blocking); a batch the server does not take is dropped."""
        if self._closed:
            return
        while not self._queue.empty():
            docs = self._documents(self._drain(self.batch_size))
            if not self._send(docs):
                self.dropped += len(docs)
                return

    def close(self) -> None:
        """Stop the thread, ship what is left (one try), close the connection; idempotent."""
        if self._closed:
            super().close()
            return
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=_JOIN_TIMEOUT_S)
        leftover = self._pending + self._documents(self._drain(None))
        self._pending = []
        for start in range(0, len(leftover), self.batch_size):
            if not self._send(leftover[start : start + self.batch_size]):
                self.dropped += len(leftover) - start
                break
        self._closed = True
        self._client.close()
        super().close()

    def _drain(self, limit: int | None) -> list[str]:
        """Take up to ``limit`` queued lines (all of them when ``limit`` is None)."""
        batch: list[str] = []
        while limit is None or len(batch) < limit:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _documents(self, lines: list[str]) -> list[str]:
        """Convert formatted lines to JSONL documents, counting unparseable ones as dropped once."""
        docs = []
        for raw in lines:
            try:
                docs.append(json.dumps(to_search_document(json.loads(raw))))
            except (ValueError, TypeError, AttributeError):
                self.dropped += 1
        return docs

    def _run(self) -> None:
        pending: list[str] = []
        while not self._stop.is_set():
            deadline = time.monotonic() + self.interval_s
            while len(pending) < self.batch_size and time.monotonic() < deadline and not self._stop.is_set():
                try:
                    raw = self._queue.get(timeout=0.05)
                except queue.Empty:
                    continue
                pending.extend(self._documents([raw]))
            if pending and self._send(pending):
                pending = []
            elif pending:
                self._stop.wait(self.interval_s)
        # Handed to close(), which ships them ahead of the lines still queued.
        self._pending = pending

    def _ensure_collection(self) -> None:
        if self._collection_ready:
            return
        response = self._client.get(f"/collections/{self.collection}")
        if response.status_code == httpx.codes.NOT_FOUND:
            created = self._client.post(
                "/collections",
                json={
                    "name": self.collection,
                    "fields": _SCHEMA_FIELDS,
                    "default_sorting_field": "ts_unix_us",
                },
            )
            if created.status_code not in (httpx.codes.CREATED, httpx.codes.CONFLICT):
                created.raise_for_status()
        else:
            response.raise_for_status()
        self._collection_ready = True

    def _send(self, docs: list[str]) -> bool:
        """Import ``docs``; True when the server answered (rejected documents count as dropped)."""
        if not docs:
            return True
        with self._send_lock:
            self._sending.active = True
            try:
                return self._import(docs)
            finally:
                self._sending.active = False

    def _import(self, docs: list[str]) -> bool:
        try:
            self._ensure_collection()
            response = self._client.post(
                f"/collections/{self.collection}/documents/import",
                params={"action": "create"},
                content="\n".join(docs).encode(),
                headers={"Content-Type": "text/plain"},
            )
            if response.status_code == httpx.codes.NOT_FOUND:
                # The collection was dropped since it was checked: create it on the next try.
                self._collection_ready = False
            response.raise_for_status()
        except httpx.HTTPError as exc:
            if not self._failing:
                # Logging from here would feed the shipper itself; stderr is the one safe
                # channel. Once per outage, not once per retry.
                sys.stderr.write(f"log shipping to {self.collection} failed: {exc}\n")
            self._failing = True
            return False
        self._failing = False
        rejected = self._count_rejected(response.text)
        self.dropped += rejected
        self.shipped += len(docs) - rejected
        return True

    @staticmethod
    def _count_rejected(body: str) -> int:
        """Typesense answers 200 for a partial import, with one ``{"success": ...}`` per line."""
        rejected = 0
        for line in body.splitlines():
            try:
                if json.loads(line).get("success") is not True:
                    rejected += 1
            except (ValueError, AttributeError):
                rejected += 1
        return rejected
