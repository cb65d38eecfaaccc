"""J8 on a whole `folio up`, in Chromium: the owner watches the shop live; a gateway restart loses nothing.

The first order is placed through the API and travels the real path (orders service,
outbox, relay, Kafka, the `streams` process's live stage, Redis pub/sub, the gateway's
hub, the page's WebSocket). Then the gateway is killed (SIGKILL: `folio up`'s
supervisor starts it again) and, while it is down, the order's `OrderPaid` enters the
outbox (the gateway that would receive the payment webhook is the one that is down);
the page reconnects by itself, resumes after the last `seq` it showed and shows the
paid order and its revenue it missed. Last, the same page over Server-Sent Events.
"""

from __future__ import annotations

import json
import os
import re
import signal
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from folio.core.db import open_database
from folio.core.outbox import EventDraft, add_outbox_events
from folio.core.settings import Settings
from tests.e2e.entrypoints.web.test_search_page import run_async
from tests.support.folio_up import FolioUp
from tests.support.identity import Session
from tests.support.journeys import shop_with_a_cart

pytestmark = pytest.mark.e2e

ARRIVES_WITHIN_MS = 60_000
"""How long an event may take from the outbox to the page (relay rounds, group joins at start)."""


@pytest.fixture
def up(folio_platform: FolioUp) -> FolioUp:
    """The suite's one whole `folio up` (``tests/e2e/conftest.py``); its gateway is up again at the end."""
    return folio_platform


def _place_an_order(up: FolioUp) -> tuple[Session, dict[str, Any]]:
    """A new shop whose customer places one order (14.90 EUR) through the API: its owner and the order."""

    async def place() -> tuple[Session, dict[str, Any]]:
        async with httpx.AsyncClient(base_url=up.url, timeout=30) as http:
            owner, customer, _ = await shop_with_a_cart(http)
            headers = {"Idempotency-Key": str(uuid.uuid4()), **customer.headers}
            placed = await http.post("/api/v1/orders", headers=headers)
            assert placed.status_code == 201, placed.text
            return owner, placed.json()

    return run_async(place)


def _log_in(page: Page, owner: Session) -> None:
    page.goto("/app/login")
    page.get_by_label("Shop address").fill(owner.shop_slug)
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(owner.password)
    page.get_by_role("button", name="Log in").click()


def _tile(page: Page, series: str) -> Locator:
    return page.locator(f'.live-tile[data-series="{series}"] .live-value')


def _kill_gateway(up: FolioUp) -> None:
    """SIGKILL the gateway process; `folio up` starts a new one (restart on failure)."""
    record = json.loads((up.home / ".folio" / "run" / "gateway.pid").read_text())  # the supervisor's
    pid = int(record["pid"])
    os.kill(pid, signal.SIGKILL)


def test_the_owner_watches_orders_arrive_and_the_page_survives_a_gateway_restart(
    up: FolioUp, chromium: Browser, artifacts: Path, migrated_postgres: Settings
) -> None:
    """An order on the page; the gateway killed, the order paid meanwhile: the page catches up; SSE too."""
    owner, order = _place_an_order(up)
    context = chromium.new_context(base_url=up.url, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        violations: list[str] = []
        page.on(
            "console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None
        )
        _log_in(page, owner)
        page.get_by_role("link", name="Live", exact=True).click()
        expect(page).to_have_url(re.compile(r"/app/live/$"))
        status = page.locator(".live-status")
        expect(status).to_have_text("Live (WebSocket)")
        expect(_tile(page, "orders_placed")).to_have_text("1", timeout=ARRIVES_WITHIN_MS)
        seen_before = int(page.locator("#live").get_attribute("data-last-seq") or "0")

        _kill_gateway(up)
        expect(status).to_have_attribute("data-state", re.compile("reconnecting|connecting"))
        run_async(lambda: _publish_paid(migrated_postgres, owner, order))
        expect(status).to_have_text("Live (WebSocket)", timeout=ARRIVES_WITHIN_MS)
        expect(_tile(page, "orders_paid")).to_have_text("1", timeout=ARRIVES_WITHIN_MS)
        expect(_tile(page, "revenue")).to_have_text("14.90 EUR")
        expect(_tile(page, "orders_placed")).to_have_text("1")
        missed = page.locator(".live-log li").evaluate_all(
            "(items) => items.map((item) => Number(item.dataset.seq))"
        )
        assert [seq for seq in missed if seq > seen_before], "the page showed nothing it had missed"
        page.screenshot(path=str(artifacts / "j8-live.png"), full_page=True)

        sse = context.new_page()
        sse.goto("/app/live/?transport=sse")
        expect(sse.locator(".live-status")).to_have_text("Live (Server-Sent Events)")
        expect(_tile(sse, "revenue")).to_have_text("14.90 EUR")
        assert not violations, violations
    finally:
        context.close()


async def _publish_paid(settings: Settings, owner: Session, order: dict[str, Any]) -> None:
    """The order's ``OrderPaid`` into the outbox, as the orders service writes it when the payment lands."""
    lines = [
        {key: line[key] for key in ("listing_id", "work_id", "quantity", "title", "unit_price_minor")}
        for line in order["lines"]
    ]
    payload = {
        "order_id": order["id"],
        "status": "paid",
        "customer_id": order["customer_id"],
        "currency": order["currency"],
        "total_minor": order["total_minor"],
        "refunded_minor": order["refunded_minor"],
        "lines": lines,
        "version": order["version"] + 1,
    }
    draft = EventDraft(
        topic="orders", key=order["id"], type="OrderPaid", payload=payload, tenant_id=owner.tenant_id
    )
    async with open_database(settings.database, settings.database_url) as db:
        await db.run(lambda session: add_outbox_events(session, [draft]))
