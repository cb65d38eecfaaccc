"""Log lines shipped to the search server (Typesense) arrive whole, and a down server costs nothing."""

from __future__ import annotations

import io
import json
import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import structlog

from folio.core.logging import configure_logging, request_context, shutdown_logging
from folio.core.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undo the process-wide logging setup a test makes."""
    root = logging.getLogger()
    saved_level = root.level
    yield
    shutdown_logging()
    logging.captureWarnings(capture=False)
    structlog.reset_defaults()
    root.setLevel(saved_level)


@pytest.fixture
def collection(settings: Settings, require_service: Callable[[str], None]) -> Iterator[str]:
    """A log collection name no other test uses, dropped afterwards."""
    require_service("search")
    name = f"test-logs-{uuid.uuid4().hex[:12]}"
    yield name
    search = settings.services.search
    httpx.delete(
        f"{search.url}/collections/{name}",
        headers={"X-TYPESENSE-API-KEY": search.api_key.get_secret_value()},
        timeout=5.0,
    )


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _shipped(settings: Settings, collection: str, correlation: str | None = None) -> list[dict[str, Any]]:
    search = settings.services.search
    response = httpx.get(
        f"{search.url}/collections/{collection}/documents/search",
        params={
            "q": "*",
            "query_by": "event",
            **({"filter_by": f"correlation_id:={correlation}"} if correlation else {}),
            "sort_by": "ts_unix_us:asc",
            "per_page": 50,
        },
        headers={"X-TYPESENSE-API-KEY": search.api_key.get_secret_value()},
        timeout=5.0,
    )
    response.raise_for_status()
    return [hit["document"] for hit in response.json()["hits"]]


@pytest.mark.usefixtures("restore_logging")
def test_lines_logged_in_a_request_arrive_in_search(settings: Settings, collection: str) -> None:
    """Every line logged in a request, structlog's and the standard library's, is searchable by its id."""
    log_settings = settings.logging.model_copy(
        update={
            "ship_to_search": True,
            "ship_collection": collection,
            "file": None,
            "level": "INFO",
            "ship_interval_s": 0.1,
        }
    )
    runtime = configure_logging(
        log_settings, service="shipping-test", search=settings.services.search, stream=io.StringIO()
    )
    shipper = runtime.shipper
    assert shipper is not None
    correlation = uuid.uuid4().hex
    outside = uuid.uuid4().hex

    with request_context(correlation):
        log = structlog.get_logger("tests.shipping")
        log.info("order.placed", order_id=42, total="12.50")
        log.warning("stock.low", sku="B-1")
        logging.getLogger("tests.shipping.stdlib").error("payment declined")
        log.debug("below.the.level")
    with request_context(outside):
        log.info("someone.else")
    deadline = time.monotonic() + 10.0
    while shipper.shipped < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert shipper.shipped >= 4, "the background sender shipped nothing"
    time.sleep(0.3)  # a few more send intervals, in which nothing new may appear

    shutdown_logging()

    assert (shipper.shipped, shipper.dropped) == (4, 0)
    docs = _shipped(settings, collection, correlation)
    assert [(d["event"], d["level"]) for d in docs] == [
        ("order.placed", "info"),
        ("stock.low", "warning"),
        ("payment declined", "error"),
    ]
    assert {d["service"] for d in docs} == {"shipping-test"}
    assert {d["correlation_id"] for d in docs} == {correlation}
    assert docs[0]["logger"] == "tests.shipping"
    assert json.loads(docs[0]["context"]) == {"order_id": 42, "total": "12.50"}
    assert all(d["ts_unix_us"] > 0 and d["ts"].endswith("Z") for d in docs)
    assert [d["event"] for d in _shipped(settings, collection, outside)] == ["someone.else"]
    # Nothing else, in particular no line about the shipper's own HTTP requests.
    assert len(_shipped(settings, collection)) == 4


@pytest.mark.usefixtures("restore_logging")
def test_an_unreachable_search_server_does_not_block_logging(settings: Settings) -> None:
    """With nothing listening, logging returns at once and shutdown drops and counts the lines."""
    search = settings.services.search.model_copy(update={"port": _unused_port()})
    log_settings = settings.logging.model_copy(
        update={
            "ship_to_search": True,
            "ship_collection": f"test-logs-{uuid.uuid4().hex[:12]}",
            "file": None,
            "level": "INFO",
            "ship_interval_s": 0.05,
        }
    )
    runtime = configure_logging(log_settings, service="shipping-test", search=search, stream=io.StringIO())
    shipper = runtime.shipper
    assert shipper is not None
    log = structlog.get_logger("tests.shipping")

    started = time.monotonic()
    for i in range(500):
        log.info("burst", i=i)
    logging_s = time.monotonic() - started
    time.sleep(0.2)  # let the sender try, and fail, at least once
    started = time.monotonic()
    shutdown_logging()
    shutdown_s = time.monotonic() - started

    assert logging_s < 2.0
    assert shutdown_s < 3.0
    assert shipper.shipped == 0
    assert shipper.dropped == 500
    assert not shipper._thread.is_alive()
