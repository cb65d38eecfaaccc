"""J7 on a whole `folio up`, over the API and in Chromium: a customer buys a book, pays, staff ship it.

Every hop is the real one: the gateway's /api/v1 reaches the orders gRPC service
(which asks users), checkout opens a Checkout Session with the official stripe
library on Folio's payments (/stripe), the customer pays on the hosted page, the
payment's event goes outbox -> relay -> RabbitMQ -> the webhook worker -> the orders'
payment-events route, which verifies its Stripe signature and marks the order paid.
Both tests share one `folio up`; the browser's runs last (Playwright's sync API holds
an event loop in the test's thread while it is open).
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import Database
from folio.core.settings import Settings
from folio.streaming.api import AnalyticsOrderEvent
from tests.e2e.entrypoints.web.test_search_page import run_async
from tests.support.folio_up import FolioUp, running_folio_up
from tests.support.gateway_server import FAST_ARGON2_ENV
from tests.support.identity import Session, add_member_and_login, register_and_login

pytestmark = pytest.mark.e2e

PAID_WITHIN_S = 90.0
"""How long the payment's webhook may take to travel (the worker starts with the platform)."""

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _log_tail(home: Path, process: str) -> str:
    """The end of one `folio up` process's log: what a failed wait needs to be understood."""
    log = home / ".folio" / "logs" / f"{process}.jsonl"
    return log.read_text(encoding="utf-8")[-4000:] if log.exists() else f"(no {log})"


@pytest.fixture(scope="module")
def up(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FolioUp]:
    """One `folio up` for the module's journeys, on the suite's servers."""
    env = {"FOLIO_SERVICES_DATA_DIR": str(settings.services.data_dir.absolute()), **FAST_ARGON2_ENV}
    home = tmp_path_factory.mktemp("j7")
    with running_folio_up(home, env=env) as running:
        yield running


async def _shop_with_a_cart(http: httpx.AsyncClient) -> tuple[Session, Session, str]:
    """A new shop's owner, a customer with one copy of a listing (two in stock) in the cart, its id."""
    owner = await register_and_login(http)
    customer = await add_member_and_login(http, owner, "customer")
    work = await http.post(
        "/api/v1/catalog/works", json={"title": "Seitsemän veljestä"}, headers=owner.headers
    )
    assert work.status_code == 201, work.text
    listing = await http.post(
        "/api/v1/catalog/listings",
        json={"work_id": work.json()["id"], "price_cents": 1490, "currency": "EUR", "stock": 2},
        headers=owner.headers,
    )
    assert listing.status_code == 201, listing.text
    listing_id: str = listing.json()["id"]
    cart = await http.put(f"/api/v1/cart/items/{listing_id}", json={"quantity": 1}, headers=customer.headers)
    assert cart.status_code == 200, cart.text
    return owner, customer, listing_id


async def _wait_for_status(
    http: httpx.AsyncClient, order_url: str, headers: dict[str, str], status: str
) -> dict[str, Any]:
    """The order once it reaches ``status``, or as it is when ``PAID_WITHIN_S`` runs out."""
    deadline = time.monotonic() + PAID_WITHIN_S
    while True:
        order: dict[str, Any] = (await http.get(order_url, headers=headers)).json()
        if order["status"] == status or time.monotonic() > deadline:
            return order
        await asyncio.sleep(1.0)  # the API's per-member rate limit is 100 a minute


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
        owner, customer, listing_id = await _shop_with_a_cart(http)
        key = {"Idempotency-Key": str(uuid.uuid4()), **customer.headers}
        placed = await http.post("/api/v1/orders", headers=key)
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert (order["status"], order["total_minor"]) == ("pending_payment", 1490)
        assert order["payment_url"] is not None, order
        assert (await http.post("/api/v1/orders", headers=key)).json()["id"] == order[
            "id"
        ]  # a retry: one order

        async with httpx.AsyncClient(timeout=30) as browser:
            page = await browser.get(order["payment_url"])
            assert page.status_code == 200, page.text
            token = _CSRF.search(page.text)
            assert token is not None, page.text
            paid_page = await browser.post(
                order["payment_url"],
                data={
                    "csrf_token": token.group(1),
                    "email": "",
                    "number": "4242 4242 4242 4242",
                    "expiry": "12 / 34",
                    "cvc": "123",
                },
            )
            assert paid_page.status_code == 303, paid_page.text

        order_url = f"/api/v1/orders/{order['id']}"
        paid = await _wait_for_status(http, order_url, customer.headers, "paid")
        assert paid["status"] == "paid", f"{paid}\n{up.output[-2000:]}\n{_log_tail(up.home, 'worker-1')}"
        assert paid["payment_reference"] == order["payment_reference"]

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
        assert {"OrderPlaced", "OrderPaid"} <= set(events), f"{events}\n{_log_tail(up.home, 'streams')}"


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
            return await _shop_with_a_cart(http)

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
        assert paid == "Paid", f"{up.output[-2000:]}\n{_log_tail(up.home, 'worker-1')}"
    finally:
        context.close()
