"""J7 and J10 on a whole `folio up`: a customer buys a book and staff ship it; the analyst asks about it.

Every hop is the real one: the gateway's /api/v1 reaches the orders gRPC service
(which asks users), checkout opens a Checkout Session with the official stripe
library on Folio's payments (/stripe), the customer pays on the hosted page, the
payment's event goes outbox -> relay -> RabbitMQ -> the webhook worker -> the orders'
payment-events route, which verifies its Stripe signature and marks the order paid.
J10 follows a sale into the lake (Kafka, the `streams` process's lake stage) and runs
the daily flow (Prefect, its own environment) over it. The tests share the suite's one
whole `folio up` (``folio_platform``); the browser's runs last (Playwright's sync API
holds an event loop in the test's thread while it is open).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import Database
from folio.streaming.api import AnalyticsOrderEvent
from tests.e2e.entrypoints.web.test_search_page import run_async
from tests.support.folio_up import FolioUp
from tests.support.identity import Session, add_member_and_login
from tests.support.journeys import PAID_WITHIN_S, TITLE, buy_and_pay, log_tail, shop_with_a_cart

pytestmark = pytest.mark.e2e


@pytest.fixture
def up(folio_platform: FolioUp) -> FolioUp:
    """The suite's one whole `folio up` (``tests/e2e/conftest.py``), shared with the other journeys."""
    return folio_platform


async def _analytics_events(db: Database, order_id: str) -> list[str]:
    """The event types of ``order_id`` in ``analytics_order_events`` once its ``OrderPaid`` is there.

    They travel outbox, relay, Kafka, transform, sink; returned as they are when ``PAID_WITHIN_S`` runs out.
    """
    query = select(AnalyticsOrderEvent.event_type).where(AnalyticsOrderEvent.order_id == uuid.UUID(order_id))

    async def work(session: AsyncSession) -> list[str]:
        return sorted(str(kind) for kind in (await session.execute(query)).scalars())

    deadline = time.monotonic() + PAID_WITHIN_S
    while True:
        found = await db.run(work)
        if "OrderPaid" in found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(1.0)


async def test_a_customer_buys_a_book_and_the_shop_ships_it(up: FolioUp, pg_database: Database) -> None:
    """Cart, idempotent checkout, 4242 on the hosted page, paid by the signed webhook, then shipped."""
    async with httpx.AsyncClient(base_url=up.url, timeout=30) as http:
        owner, _, listing_id, order = await buy_and_pay(http, up)
        order_url = f"/api/v1/orders/{order['id']}"
        for move, status in (("pack", "packed"), ("ship", "shipped"), ("deliver", "delivered")):
            moved = await http.post(f"{order_url}/{move}", headers=owner.headers)
            assert (moved.status_code, moved.json()["status"]) == (200, status), moved.text
        assert (await http.post(f"{order_url}/pack", headers=owner.headers)).status_code == 409
        stock = (await http.get(f"/api/v1/catalog/listings/{listing_id}", headers=owner.headers)).json()[
            "stock"
        ]
        assert stock == 1
        # The paid order's events reached the analytics table through Kafka (the `streams` process).
        events = await _analytics_events(pg_database, order["id"])
        assert {"OrderPlaced", "OrderPaid"} <= set(events), f"{events}\n{log_tail(up.home, 'streams')}"


def _lake_rows(up: FolioUp, columns: str, source: str, shop: uuid.UUID) -> list[dict[str, Any]]:
    """``folio lake query --output json`` (JSON Lines): ``columns`` of one shop's rows of a table or view."""
    sql = f"SELECT {columns} FROM {source} WHERE shop_id = '{shop}' ORDER BY ALL"  # noqa: S608 - the test's own names
    done = up.folio("lake", "query", "--output", "json", sql)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


async def test_the_analyst_asks_about_the_day_in_the_lake(up: FolioUp) -> None:
    """J10: a sale and an abandoned cart reach the lake through Kafka; the daily flow's aggregates answer."""
    async with httpx.AsyncClient(base_url=up.url, timeout=30) as http:
        owner, _, listing_id, order = await buy_and_pay(http, up)
        browser = await add_member_and_login(http, owner, "customer")
        cart = await http.put(
            f"/api/v1/cart/items/{listing_id}", json={"quantity": 1}, headers=browser.headers
        )
        assert cart.status_code == 200, cart.text
    shop = owner.tenant_id

    deadline = time.monotonic() + PAID_WITHIN_S
    landed: list[dict[str, Any]] = []
    while time.monotonic() < deadline:  # the streams process's lake stage writes every few seconds
        landed = _lake_rows(up, "event_type, order_id", "order_events", shop)
        if len(landed) >= 4:  # two carts, placed, paid
            break
        await asyncio.sleep(2.0)
    assert sorted(row["event_type"] for row in landed) == [
        "CartItemAdded",
        "CartItemAdded",
        "OrderPaid",
        "OrderPlaced",
    ], f"{landed}\n{log_tail(up.home, 'streams')}"

    today = dt.datetime.now(dt.UTC).date().isoformat()
    flow = up.folio("flows", "run", "--date", today, "--shop", str(shop), "--json", timeout=300)
    assert flow.returncode == 0, flow.stdout[-2000:] + flow.stderr[-3000:]
    assert json.loads(flow.stdout.splitlines()[-1])["state"] == "Completed"

    sales = _lake_rows(up, "orders_paid, revenue_minor, currency", "shop_daily_sales", shop)
    assert sales == [{"orders_paid": 1, "revenue_minor": 1490, "currency": "EUR"}]
    funnel = _lake_rows(up, "carts, placed, paid", "shop_daily_funnel", shop)
    assert funnel == [{"carts": 2, "placed": 1, "paid": 1}]
    best = _lake_rows(up, "title, units", "best_sellers", shop)
    assert best == [{"title": TITLE, "units": 1}]
    assert order["id"] in {row["order_id"] for row in landed}


def _badge_once_reloaded(page: Page, status: str) -> str:
    """The order page's status badge, reloading once a second until it reads ``status`` or time runs out."""
    badge = page.locator(".page-head .badge")
    deadline = time.monotonic() + PAID_WITHIN_S
    while (text := (badge.text_content() or "").strip()) != status and time.monotonic() < deadline:
        page.wait_for_timeout(1000)
        page.reload()
    return text


def test_a_customer_buys_a_book_in_the_browser(up: FolioUp, chromium: Browser, artifacts: Path) -> None:
    """J7 in Chromium: log in, cart, check out, card 4242 on the hosted page, the order page turns Paid."""

    async def stock() -> tuple[Session, Session, str]:
        async with httpx.AsyncClient(base_url=up.url, timeout=30) as http:
            return await shop_with_a_cart(http)

    _, customer, _ = run_async(stock)
    context = chromium.new_context(base_url=up.url, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto("/app/login")
        page.get_by_label("Shop address").fill(customer.shop_slug)
        page.get_by_label("Email").fill(customer.email)
        page.get_by_label("Password").fill(customer.password)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("link", name="Cart", exact=True).click()
        expect(page.locator(".cart .total")).to_have_text("14.90 EUR")
        page.get_by_role("button", name="Check out and pay").click()
        expect(page).to_have_url(re.compile(r"/app/shop/orders/[0-9a-f-]{36}$"))
        assert _badge_once_reloaded(page, "Pending payment") == "Pending payment"

        pay = page.get_by_role("link", name=re.compile(r"^Pay "))
        deadline = time.monotonic() + PAID_WITHIN_S
        while pay.count() == 0 and time.monotonic() < deadline:  # "Opening your payment…" until it is
            page.wait_for_timeout(500)
            page.reload()
        pay.click()
        page.get_by_label("Card number").fill("4242 4242 4242 4242")
        page.get_by_label("Expiry (MM / YY)").fill("12 / 34")
        page.get_by_label("CVC").fill("123")
        page.get_by_role("button", name=re.compile(r"^Pay ")).click()
        expect(page.get_by_role("heading", name=re.compile(r"^Thank you: paid"))).to_be_visible()
        page.get_by_role("link", name="Continue").click()
        expect(page).to_have_url(re.compile(r"/app/shop/orders/[0-9a-f-]{36}\?checkout=success$"))

        paid = _badge_once_reloaded(page, "Paid")
        page.screenshot(path=str(artifacts / "j7-browser-paid.png"), full_page=True)
        assert paid == "Paid", f"{up.output[-2000:]}\n{log_tail(up.home, 'worker-1')}"
    finally:
        context.close()
