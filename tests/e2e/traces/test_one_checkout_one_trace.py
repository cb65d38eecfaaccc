"""One checkout is one trace: browser -> gateway -> orders and users gRPC -> RabbitMQ webhook -> Kafka sink.

The customer's browser starts the trace (a ``traceparent`` on its requests, as browser
instrumentation sends); every Folio process continues it, through HTTP, gRPC metadata,
the outbox row, RabbitMQ headers and Kafka headers, and `folio traces collect` keeps it.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid

import httpx
import pytest

from folio.core.db import Database
from folio.traces.api import TraceView, get_trace
from tests.support.folio_up import FolioUp
from tests.support.journeys import pay_with_4242, shop_with_a_cart, wait_for_status

pytestmark = pytest.mark.e2e

WITHIN_S = 90.0


async def _trace_spanning(db: Database, trace_id: str, services: set[str]) -> TraceView | None:
    """The stored trace once its services include ``services`` (``worker-N`` as ``worker``), or as it is."""
    deadline = time.monotonic() + WITHIN_S
    while True:
        view = await get_trace(db, trace_id)
        found = {_kind(name) for name in view.trace.services} if view else set()
        if services <= found or time.monotonic() > deadline:
            return view
        await asyncio.sleep(1.0)


def _kind(service: str) -> str:
    return "worker" if service.startswith("worker-") else service


async def test_one_checkout_is_one_trace(folio_platform: FolioUp, pg_database: Database) -> None:
    """Once paid, one trace id holds the gateway, orders, users, the webhook worker and the Kafka sink."""
    up = folio_platform
    trace_id = secrets.token_hex(16)
    browser_trace = {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"}
    async with httpx.AsyncClient(base_url=up.url, timeout=30) as http:
        _owner, customer, _listing = await shop_with_a_cart(http)
        checkout = {"Idempotency-Key": str(uuid.uuid4()), **customer.headers, **browser_trace}
        placed = await http.post("/api/v1/orders", headers=checkout)
        assert placed.status_code == 201, placed.text
        assert placed.headers["traceparent"].split("-")[1] == trace_id  # a person can open it
        order = placed.json()
        await pay_with_4242(order["payment_url"], headers=browser_trace)
        paid = await wait_for_status(http, f"/api/v1/orders/{order['id']}", customer.headers, "paid")
        assert paid["status"] == "paid", paid
    expected = {"gateway", "orders", "users", "worker", "streams-all"}
    view = await _trace_spanning(pg_database, trace_id, expected)
    assert view is not None, f"no trace {trace_id} in the store\n{up.output[-2000:]}"
    assert {_kind(name) for name in view.trace.services} >= expected, view.trace
    names = {span.name for span in view.spans}
    assert any(name.endswith(" process") and name.startswith("payments") for name in names), names
