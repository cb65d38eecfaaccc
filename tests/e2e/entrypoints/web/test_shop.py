"""J7 in a real browser: a customer finds a book, checks out and cancels; staff move a paid order along.

Chromium drives a gateway process whose orders client dials the users and orders gRPC
servers, started in this test process on a loop of their own
(``tests.integration.grpckit.conftest.start_pair``), so every shop page goes through
the gRPC pair as in production. The shop's stock is catalogued and indexed as in the
search page's browser test; the payment is confirmed with ``folio.orders.api
.confirm_payment`` (the verified webhook's call), since no workers deliver webhooks here.
"""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from folio.core.db import Database, open_database
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings
from folio.identity import api as identity
from tests.e2e.entrypoints.web.conftest import Gateway
from tests.e2e.entrypoints.web.test_search_page import PASSWORD, drop_shop_index, run_async, stock_shop
from tests.integration.entrypoints.web.test_shop_pages import pay
from tests.integration.grpckit.conftest import Pair, start_pair, stop_all

pytestmark = pytest.mark.e2e

T = TypeVar("T")

CALL_LIMIT_S = 30


@dataclass
class PairThread:
    """The users and orders gRPC servers serving on an event loop in a thread of their own."""

    loop: asyncio.AbstractEventLoop
    db: Database
    pair: Pair

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the servers' loop (the database's pools belong to it)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(CALL_LIMIT_S)


@pytest.fixture
def orders_pair(migrated_postgres: Settings, gateway_port: int) -> Iterator[PairThread]:
    """The gRPC pair on PostgreSQL's primary; its payments reach the gateway this test starts."""
    gateway = migrated_postgres.gateway.model_copy(update={"host": "127.0.0.1", "port": gateway_port})
    settings = migrated_postgres.model_copy(update={"gateway": gateway})
    ready: Future[PairThread] = Future()
    stopped: list[asyncio.Future[None]] = []

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        stop: asyncio.Future[None] = loop.create_future()
        stopped.append(stop)
        try:
            async with open_database(settings.database, settings.database_url) as db:
                pair, parts = await start_pair(settings, db)
                try:
                    ready.set_result(PairThread(loop=loop, db=db, pair=pair))
                    await stop
                finally:
                    await stop_all(parts)
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="grpc-pair", daemon=True)
    thread.start()
    running = ready.result(CALL_LIMIT_S)
    try:
        yield running
    finally:
        running.loop.call_soon_threadsafe(stopped[0].set_result, None)
        thread.join(timeout=CALL_LIMIT_S)


@pytest.fixture
def gateway_extra_env(orders_pair: PairThread) -> dict[str, str]:
    """The gateway's gRPC clients dial the pair."""
    return {
        "FOLIO_GRPC_USERS_TARGET": f"127.0.0.1:{orders_pair.pair.users_port}",
        "FOLIO_GRPC_ORDERS_TARGET": orders_pair.pair.orders_target,
    }


@pytest.fixture
def contexts(
    chromium: Browser, gateway: Gateway, require_service: Callable[[str], None]
) -> Iterator[Callable[[], Page]]:
    """Open a page in a fresh browser context (own cookies) per person; any CSP violation fails the test."""
    require_service("search")
    opened: list[BrowserContext] = []
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            violations.append(message.text)

    def open_page() -> Page:
        context = chromium.new_context(base_url=gateway.url, viewport={"width": 1280, "height": 900})
        opened.append(context)
        page = context.new_page()
        page.on("console", on_console)
        return page

    yield open_page
    for context in opened:
        context.close()
    assert not violations, f"the pages broke their own CSP: {violations}"


def flash(page: Page, text: str) -> None:
    """Expect a flash message containing ``text``."""
    expect(page.locator(".flash", has_text=text)).to_be_visible()


def open_shop_and_invite_customer(owner: Page, customer: Page, *, slug: str, email: str) -> None:
    """The owner opens a shop and invites a customer, who sets a password from the mail and logs in."""
    owner.goto("/app/register")
    owner.get_by_label("Shop name").fill("Globe Books")
    owner.get_by_label("Shop address").fill(slug)
    owner.get_by_label("Your name").fill("Gale Globe")
    owner.get_by_label("Email").fill(email)
    owner.get_by_label("Password").fill(PASSWORD)
    owner.get_by_role("button", name="Open the shop").click()
    expect(owner).to_have_url(re.compile(r"/app/tasks$"))

    customer_email = f"cia-{uuid.uuid4().hex[:8]}@example.com"
    owner.get_by_role("link", name="Members").click()
    owner.get_by_label("Name").fill("Cia Customer")
    owner.get_by_label("Email").fill(customer_email)
    owner.get_by_label("Role").last.select_option("customer")
    owner.get_by_role("button", name="Invite").click()
    flash(owner, "an invitation is on its way.")

    customer.goto(f"/app/dev/outbox?to={customer_email}")
    customer.locator("a[href*='/app/reset/']").first.click()
    customer.get_by_label("New password").fill(PASSWORD)
    customer.get_by_label("Repeat it").fill(PASSWORD)
    customer.get_by_role("button", name="Set the password").click()
    customer.get_by_label("Shop address").fill(slug)
    customer.get_by_label("Email").fill(customer_email)
    customer.get_by_label("Password").fill(PASSWORD)
    customer.get_by_role("button", name="Log in").click()
    flash(customer, "Welcome back, Cia Customer.")


def buy_hamlet(customer: Page, *, narrow: Path | None = None) -> str:
    """Search for *Hamlet*, add it to the cart, check out; the new order's id.

    With ``narrow``, the cart is also checked at 375 px wide (no sideways scrolling) and
    photographed there.
    """
    customer.get_by_role("link", name="Search", exact=True).click()
    customer.locator("#q").fill("hamlet")
    customer.get_by_role("button", name="Search", exact=True).click()
    hit = customer.locator(".hit", has_text="Hamlet")
    expect(hit).to_have_count(1)
    hit.get_by_role("button", name="Add to cart: Hamlet").click()
    flash(customer, "Added “Hamlet” to your cart (1 in it).")
    expect(customer).to_have_url(re.compile(r"/app/search\?q=hamlet$"))

    customer.get_by_role("link", name="Cart", exact=True).click()
    expect(customer.locator(".cart tbody tr")).to_have_count(1)
    expect(customer.locator(".cart .total")).to_have_text("6.50 EUR")
    if narrow is not None:
        customer.set_viewport_size({"width": 375, "height": 800})
        fits = customer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert fits, "the cart scrolls sideways at 375px"
        customer.screenshot(path=str(narrow), full_page=True)
        customer.set_viewport_size({"width": 1280, "height": 900})
    customer.get_by_role("button", name="Check out and pay").click()
    expect(customer).to_have_url(re.compile(r"/app/shop/orders/[0-9a-f-]{36}$"))
    flash(customer, "is placed; your books are held while you pay.")
    expect(customer.locator(".page-head .badge")).to_have_text("Pending payment")
    return customer.url.rsplit("/", 1)[1]


async def pay_as_owner(db: Database, settings: Settings, *, slug: str, email: str, order_id: str) -> None:
    """Mark the order paid as its verified payment would, reading it as the owner first."""
    owner = await identity.authenticate_password(
        db,
        settings=settings,
        limiter=RateLimiter("memory://"),
        shop_slug=slug,
        email=email,
        password=PASSWORD,
        client_ip="127.0.0.1",
    )
    await pay(db, owner, uuid.UUID(order_id))


def test_customer_buys_and_cancels_then_staff_deliver_a_paid_order(
    contexts: Callable[[], Page],
    orders_pair: PairThread,
    migrated_postgres: Settings,
    artifacts: Path,
    record_property: Callable[[str, object], None],
) -> None:
    """J7: search, add to cart, check out, cancel; staff pack, ship and deliver a paid order on the board."""
    owner, customer = contexts(), contexts()
    slug, email = f"globe-{uuid.uuid4().hex[:8]}", f"gale-{uuid.uuid4().hex[:8]}@example.com"
    open_shop_and_invite_customer(owner, customer, slug=slug, email=email)
    cheap = {"argon2_time_cost": 1, "argon2_memory_kib": 8_192, "argon2_parallelism": 1}  # as the gateway's
    settings = migrated_postgres.model_copy(
        update={"identity": migrated_postgres.identity.model_copy(update=cheap)}
    )
    tenant_id = run_async(lambda: stock_shop(settings, slug=slug, email=email))
    try:
        first = buy_hamlet(customer)
        customer.get_by_role("button", name="Cancel order").click()
        flash(customer, f"Order {first[:8]} is cancelled.")
        expect(customer.locator(".page-head .badge")).to_have_text("Cancelled")
        expect(customer.get_by_role("button", name="Cancel order")).to_have_count(0)

        second = buy_hamlet(customer, narrow=artifacts / "web-shop-cart-375.png")
        orders_pair.run(pay_as_owner(orders_pair.db, settings, slug=slug, email=email, order_id=second))
        customer.get_by_role("link", name="Orders", exact=True).click()
        expect(customer.locator(".order")).to_have_count(2)
        expect(customer.locator(".order", has_text=second[:8]).locator(".badge")).to_have_text("Paid")

        owner.get_by_role("link", name="Orders", exact=True).click()
        expect(owner).to_have_url(re.compile(r"/app/shop/board$"))
        row = owner.locator(".order", has_text=second[:8])
        expect(row.locator(".badge")).to_have_text("Paid")
        screenshot = artifacts / "web-shop-board.png"
        owner.screenshot(path=str(screenshot), full_page=True)
        record_property("screenshot", str(screenshot))
        for done in ("packed", "shipped", "delivered"):
            row.get_by_role("button", name=f"Mark {done}").click()
            flash(owner, f"Order {second[:8]} is {done}.")
        expect(row.locator(".badge")).to_have_text("Delivered")
        expect(row.get_by_role("button")).to_have_count(0)
    finally:
        run_async(lambda: drop_shop_index(migrated_postgres, tenant_id))
