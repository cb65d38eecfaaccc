"""Shipping log lines to the search server (Typesense), the L3-20 stretch goal.

Lines are queued by a logging handler and sent in bulk (JSONL ``documents/import``)
from a daemon thread, so a slow or absent search server never blocks a request. The
queue is bounded: when the server is down for long, the oldest lines are dropped and
counted rather than letting memory grow; the file and stdout keep every line.
"""

from __future__ import annotations

import json
import logging
import queue
import sys
import threading
import time
from datetime import datetime
from typing import Any

import httpx

from folio.core.settings.models import LoggingSettings, SearchSettings

_SCHEMA_FIELDS = [
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
_TOP_LEVEL = {f["name"] for f in _SCHEMA_FIELDS} - {"ts_unix_us", "context"}


def to_search_document(line: dict[str, Any]) -> dict[str, Any]:
    """Map one JSON log line onto the collection's fixed schema.

    Event-specific fields go into ``context`` as a JSON string, so arbitrary log
    context can never break the collection's schema.
    """
    doc = {key: str(line[key]) for key in _TOP_LEVEL if line.get(key) is not None}
    doc.setdefault("event", "")
    doc.setdefault("level", "info")
    ts = str(line.get("ts", ""))
    doc["ts"] = ts
    try:
        doc["ts_unix_us"] = int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1_000_000)
    except ValueError:
        doc["ts_unix_us"] = int(time.time() * 1_000_000)
    rest = {key: value for key, value in line.items() if key not in _TOP_LEVEL and key != "ts"}
    if rest:
        doc["context"] = json.dumps(rest, default=str, sort_keys=True)
    return doc


class SearchLogShipper(logging.Handler):
    """A logging handler that bulk-imports formatted JSON lines into Typesense."""

    def __init__(self, search: SearchSettings, settings: LoggingSettings, *, max_queue: int = 50_000) -> None:
        super().__init__()
        self.collection = settings.ship_collection
        self.batch_size = settings.ship_batch_size
        self.interval_s = settings.ship_interval_s
        self.dropped = 0
        self.shipped = 0
        self._queue: queue.Queue[str] = queue.Queue(maxsize=max_queue)
        self._stop = threading.Event()
        self._client = httpx.Client(
            base_url=search.url,
            headers={"X-TYPESENSE-API-KEY": search.api_key.get_secret_value()},
            timeout=5.0,
        )
        self._thread = threading.Thread(target=self._run, name="log-shipper", daemon=True)
        self._collection_ready = False

    def start(self) -> None:
        """Start the background sender."""
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the formatted line; drop the oldest line when the queue is full."""
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)
            return
        while True:
            try:
                self._queue.put_nowait(line)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def flush(self) -> None:
        """Send everything queued now (blocking)."""
        while not self._queue.empty():
            if not self._send(self._drain()):
                return

    def close(self) -> None:
        """Ship what is left, stop the thread, close the connection."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.flush()
        self._client.close()
        super().close()

    def _drain(self) -> list[str]:
        batch: list[str] = []
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        pending: list[str] = []
        while not self._stop.is_set():
            deadline = time.monotonic() + self.interval_s
            while len(pending) < self.batch_size and time.monotonic() < deadline and not self._stop.is_set():
                try:
                    pending.append(self._queue.get(timeout=0.05))
                except queue.Empty:
                    continue
            if pending and self._send(pending):
                pending = []
            elif pending:
                self._stop.wait(self.interval_s)
        for line in reversed(pending):
            try:
                self._queue.put_nowait(line)
            except queue.Full:
                self.dropped += 1

    def _ensure_collection(self) -> None:
        if self._collection_ready:
            return
        response = self._client.get(f"/collections/{self.collection}")
        if response.status_code == 404:
            created = self._client.post(
                "/collections",
                json={"name": self.collection, "fields": _SCHEMA_FIELDS, "default_sorting_field": "ts_unix_us"},
            )
            if created.status_code not in (201, 409):
                created.raise_for_status()
        else:
            response.raise_for_status()
        self._collection_ready = True

    def _send(self, batch: list[str]) -> bool:
        if not batch:
            return True
        try:
            self._ensure_collection()
            docs = []
            for raw in batch:
                try:
                    docs.append(json.dumps(to_search_document(json.loads(raw))))
                except (ValueError, TypeError):
                    self.dropped += 1
            response = self._client.post(
                f"/collections/{self.collection}/documents/import",
                params={"action": "create"},
                content="\n".join(docs).encode(),
                headers={"Content-Type": "text/plain"},
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            # Logging from here would feed the shipper itself; stderr is the one safe channel.
            print(f"log shipping to {self.collection} failed: {exc}", file=sys.stderr)
            return False
        self.shipped += len(docs)
        return True
