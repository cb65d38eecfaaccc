"""Log shipping without a server: the document mapping and the shipper's bookkeeping."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from folio.core.logging.shipping import SearchLogShipper, to_search_document
from folio.core.settings.logging import LoggingSettings
from folio.core.settings.services import SearchSettings

pytestmark = pytest.mark.unit

Handler = Callable[[httpx.Request], httpx.Response]


def _now_us() -> int:
    return (datetime.now(UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def test_schema_fields_are_mapped_and_the_rest_goes_to_context() -> None:
    """Schema fields become top-level strings; everything else is one sorted JSON ``context``."""
    doc = to_search_document(
        {
            "ts": "2026-01-02T03:04:05.123456Z",
            "level": "error",
            "event": "payment.declined",
            "logger": "folio.payments",
            "service": "gateway",
            "correlation_id": "req-1",
            "tenant_id": 7,
            "trace_id": None,
            "order_id": 42,
            "exception": "Traceback ...",
        }
    )

    assert doc == {
        "ts": "2026-01-02T03:04:05.123456Z",
        "ts_unix_us": 1767323045123456,
        "level": "error",
        "event": "payment.declined",
        "logger": "folio.payments",
        "service": "gateway",
        "correlation_id": "req-1",
        "tenant_id": "7",
        "context": '{"exception": "Traceback ...", "order_id": 42}',
    }


def test_a_line_without_extras_has_no_context_and_gets_defaults() -> None:
    """A bare line gets level ``info`` and an empty event, and no ``context`` field."""
    doc = to_search_document({"ts": "2026-01-02T03:04:05Z"})

    assert doc == {"ts": "2026-01-02T03:04:05Z", "ts_unix_us": 1767323045000000, "level": "info", "event": ""}


def test_naive_and_offset_timestamps_are_read_as_utc_instants() -> None:
    """A timestamp without a zone counts as UTC; one with an offset is converted."""
    utc = to_search_document({"ts": "2026-01-02T03:04:05.000001Z"})["ts_unix_us"]

    assert to_search_document({"ts": "2026-01-02T03:04:05.000001"})["ts_unix_us"] == utc
    assert to_search_document({"ts": "2026-01-02T05:04:05.000001+02:00"})["ts_unix_us"] == utc


@pytest.mark.parametrize("ts", [None, "", "yesterday"])
def test_a_missing_or_unreadable_timestamp_is_stamped_now(ts: str | None) -> None:
    """Without a readable ``ts`` the line sorts at the current time; a given text is kept."""
    before = _now_us()
    doc = to_search_document({"ts": ts, "event": "x"})
    after = _now_us()

    assert before <= doc["ts_unix_us"] <= after
    if ts:
        assert doc["ts"] == ts
    else:
        assert doc["ts"].endswith("Z")
        assert datetime.fromisoformat(doc["ts"]).tzinfo is not None


@pytest.fixture
def make_shipper() -> Iterator[Callable[..., SearchLogShipper]]:
    """``make_shipper(handler)``: a shipper whose HTTP requests go to ``handler``; closed afterwards."""
    made: list[SearchLogShipper] = []

    def make(handler: Handler, *, max_queue: int = 100) -> SearchLogShipper:
        shipper = SearchLogShipper(
            SearchSettings(), LoggingSettings(ship_collection="logs", ship_batch_size=10), max_queue=max_queue
        )
        shipper._client.close()
        shipper._client = httpx.Client(
            base_url="http://search.invalid", transport=httpx.MockTransport(handler)
        )
        shipper.setFormatter(logging.Formatter('{"event": "%(message)s", "level": "info"}'))
        made.append(shipper)
        return shipper

    yield make
    for shipper in made:
        shipper.close()


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("test", logging.INFO, __file__, 1, message, None, None)


def _import_results(results: list[bool]) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/collections/logs":
            return httpx.Response(200, json={"name": "logs"})
        lines = "\n".join(json.dumps({"success": ok} | ({} if ok else {"error": "bad"})) for ok in results)
        return httpx.Response(200, text=lines)

    return handle


def test_documents_the_server_rejects_count_as_dropped(make_shipper: Callable[..., SearchLogShipper]) -> None:
    """A partial import (HTTP 200 with failed lines) counts only the accepted documents as shipped."""
    shipper = make_shipper(_import_results([True, False, True]))
    for message in ("a", "b", "c"):
        shipper.handle(_record(message))

    shipper.flush()

    assert (shipper.shipped, shipper.dropped) == (2, 1)


def test_a_dropped_collection_is_created_again(make_shipper: Callable[..., SearchLogShipper]) -> None:
    """After an import answers 404 (collection gone), the next send creates the collection first."""
    calls: list[str] = []
    state = {"exists": True}

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.method == "POST" and request.url.path == "/collections":
            state["exists"] = True
            return httpx.Response(201, json={"name": "logs"})
        if not state["exists"]:
            return httpx.Response(404, json={"message": "Not Found"})
        if request.url.path == "/collections/logs":
            return httpx.Response(200, json={"name": "logs"})
        return httpx.Response(200, text='{"success": true}')

    shipper = make_shipper(handle)
    shipper.handle(_record("first"))
    shipper.flush()
    state["exists"] = False
    shipper.handle(_record("lost"))
    shipper.flush()
    shipper.handle(_record("second"))
    shipper.flush()

    assert calls == [
        "GET /collections/logs",
        "POST /collections/logs/documents/import",
        "POST /collections/logs/documents/import",
        "GET /collections/logs",
        "POST /collections",
        "POST /collections/logs/documents/import",
    ]
    assert (shipper.shipped, shipper.dropped) == (2, 1)


def test_lines_logged_while_sending_are_not_shipped(make_shipper: Callable[..., SearchLogShipper]) -> None:
    """What the HTTP client logs about the shipper's own requests never re-enters its queue."""
    logger = logging.getLogger(f"test.shipping.{uuid.uuid4().hex}")
    logger.propagate = False
    logger.setLevel(logging.INFO)

    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        # Bounded, so a regression fails here instead of flushing forever.
        if len(requests) <= 5:
            logger.info("HTTP Request: %s %s", request.method, request.url)
        return _import_results([True])(request)

    shipper = make_shipper(handle)
    logger.addHandler(shipper)
    try:
        logger.info("real line")
        shipper.flush()
    finally:
        logger.removeHandler(shipper)

    assert shipper.shipped == 1
    assert shipper._queue.empty()
    assert len(requests) == 2  # the collection check and one import


def test_a_full_queue_drops_the_oldest_lines(make_shipper: Callable[..., SearchLogShipper]) -> None:
    """With the queue full, each new line replaces the oldest one, and the loss is counted."""
    shipper = make_shipper(_import_results([True]), max_queue=3)
    for i in range(5):
        shipper.handle(_record(f"line-{i}"))

    queued = [json.loads(shipper._queue.get_nowait())["event"] for _ in range(3)]

    assert queued == ["line-2", "line-3", "line-4"]
    assert shipper.dropped == 2


def test_close_is_idempotent_and_ignores_later_lines(make_shipper: Callable[..., SearchLogShipper]) -> None:
    """A second close, a flush after close, and lines emitted after close are all harmless no-ops."""
    shipper = make_shipper(_import_results([True]))
    shipper.handle(_record("before"))
    shipper.close()
    shipper.close()
    shipper.handle(_record("after"))
    shipper.flush()

    assert (shipper.shipped, shipper.dropped) == (1, 0)
    assert shipper._queue.empty()


def test_close_ships_leftovers_in_batches_and_stops_at_the_first_failure(
    make_shipper: Callable[..., SearchLogShipper],
) -> None:
    """At close, queued lines go in batch-sized imports; once one fails, the rest count as dropped."""
    imports: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/collections/logs":
            return httpx.Response(200, json={"name": "logs"})
        imports.append(len(request.content.splitlines()))
        if len(imports) > 1:
            return httpx.Response(503, json={"message": "Not Ready"})
        return httpx.Response(200, text="\n".join(['{"success": true}'] * imports[-1]))

    shipper = make_shipper(handle)
    for i in range(25):
        shipper.handle(_record(f"line-{i}"))

    shipper.close()

    assert imports == [10, 10]
    assert (shipper.shipped, shipper.dropped) == (10, 15)


def test_lines_that_are_not_json_objects_are_dropped(make_shipper: Callable[..., SearchLogShipper]) -> None:
    """A formatter producing something other than a JSON object loses that line, counted, not the sender."""
    shipper = make_shipper(_import_results([True]))
    shipper.setFormatter(logging.Formatter("%(message)s"))
    for message in ("[1, 2]", "not json", '{"event": "kept"}'):
        shipper.handle(_record(message))

    shipper.flush()

    assert (shipper.shipped, shipper.dropped) == (1, 2)
