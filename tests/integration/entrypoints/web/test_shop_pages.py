"""The web shop in the running gateway: cart, checkout, orders and the board, through the orders gRPC pair.

The gateway's orders client dials the users and orders gRPC servers started in-process
(``tests.integration.grpckit.conftest.start_pair``), so every page goes the way it
does in production: Flask view, loop portal, gRPC client, orders service, PostgreSQL.
The orders service pages its lists by ``api.default_page_size``, set to 1 here so that
two orders make two pages.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from folio.bootstrap import build_platform
from folio.catalog.api import ListingRead
from folio.core.db import Database, open_database
from folio.core.ratelimit import RateLimiter
from folio.core.security import Principal
from folio.core.settings import Settings
from folio.entrypoints.gateway.app import create_app
from folio.identity import api as identity
from folio.orders.api import confirm_payment, get_order
from tests.integration.entrypoints.web.conftest import PASSWORD, Browser, flashes, join, register_shop
from tests.integration.grpckit.conftest import start_pair, stop_all, with_targets
from tests.integration.orders.conftest import Shop as OrdersShop
from tests.integration.orders.conftest import new_listing

pytestmark = pytest.mark.integration

BrowserFactory = Callable[[], Browser]

PAGE_SIZE = 1

_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
_ORDER_PATH = re.compile(r"^/app/shop/orders/([0-9a-f-]{36})$")
_LISTED = re.compile(
    r'<li class="order status-(\w+)">\s*<a class="order-title" href="/app/shop/orders/([0-9a-f-]+)"'
)


@pytest.fixture
async def pg_database(migrated_postgres: Settings) -> AsyncIterator[Database]:
    """The primary only, as in the orders tests: a read right after a write must not race the replica."""
    async with open_database(migrated_postgres.database, migrated_postgres.database_url) as database:
        yield database


@pytest.fixture
def web_settings(web_settings: Settings) -> Settings:
    """The web tests' settings, with order lists paged by ``PAGE_SIZE``."""
    api = web_settings.api.model_copy(update={"default_page_size": PAGE_SIZE})
    return web_settings.model_copy(update={"api": api})


@pytest.fixture
async def web_app(
    web_settings: Settings, pg_database: Database, redis_limiter: RateLimiter
) -> AsyncIterator[FastAPI]:
    """The gateway (web app at /app) whose orders client dials the in-process users and orders servers."""
    pair, parts = await start_pair(web_settings, pg_database)
    settings = with_targets(web_settings, users=f"127.0.0.1:{pair.users_port}", orders=pair.orders_target)
    platform = build_platform(settings, database=pg_database, rate_limiter=redis_limiter)
    app = create_app(settings, platform=platform)
    try:
        async with app.router.lifespan_context(app):
            yield app
    finally:
        await platform.aclose()
        await stop_all(parts)


async def stocked_shop(
    owner: Browser, customer: Browser, db: Database, settings: Settings, *, stock: int
) -> tuple[Principal, ListingRead]:
    """A shop registered on the web, a listing of *Hamlet* (4.50 EUR, ``stock`` copies), a signed-in customer.

    Returns the owner (as the services know them) and the listing.
    """
    shop = await register_shop(owner)
    principal = await identity.authenticate_password(
        db,
        settings=settings,
        limiter=RateLimiter("memory://"),
        shop_slug=shop.slug,
        email=shop.owner_email,
        password=PASSWORD,
        client_ip="127.0.0.1",
    )
    staffed = OrdersShop(owner=principal, staff=principal, customer=principal, settings=settings)
    listing = await new_listing(db, staffed, price=450, stock=stock, title="Hamlet")
    await join(owner, customer, shop, role="customer", name="Cia")
    return principal, listing


async def check_out(customer: Browser, *, key: str | None = None) -> httpx.Response:
    """Send the cart page's checkout form (with its own key, or ``key``), without following the redirect."""
    cart = await customer.get("/app/shop/cart")
    found = _KEY.search(cart.text)
    return await customer.press(
        "/app/shop/checkout", follow=False, idempotency_key=key or (found and found[1]) or ""
    )


async def pay(db: Database, staff: Principal, order_id: uuid.UUID) -> None:
    """Mark the order paid as a verified payment webhook would (with its payment reference, if any)."""
    order = await get_order(db, principal=staff, order_id=order_id)
    reference = order.payment_reference or f"cs_test_{order_id.hex}"
    await confirm_payment(db, tenant_id=staff.tenant_id, order_id=order_id, payment_reference=reference)


def order_id_of(response: httpx.Response) -> str:
    """The order a checkout redirected to."""
    found = _ORDER_PATH.match(response.headers.get("location", ""))
    assert found is not None, (response.status_code, response.headers.get("location"))
    return found[1]


def listed(response: httpx.Response) -> list[tuple[str, str]]:
    """The orders a list page shows: (status, id)."""
    return _LISTED.findall(response.text)


async def test_customer_fills_the_cart_checks_out_once_and_cancels(
    browser: BrowserFactory, pg_database: Database, web_settings: Settings
) -> None:
    """Add, change, over-order (409 flashed), remove, check out twice with one key (one order), cancel."""
    owner, customer = browser(), browser()
    _, listing = await stocked_shop(owner, customer, pg_database, web_settings, stock=3)
    listing_id = str(listing.id)

    added = await customer.press("/app/shop/cart/add", listing_id=listing_id, back="/app/shop/cart")
    again = await customer.press("/app/shop/cart/add", listing_id=listing_id, back="/app/shop/cart")
    assert ("success", "Added “Hamlet” to your cart (1 in it).") in flashes(added)
    assert ("success", "Added “Hamlet” to your cart (2 in it).") in flashes(again)
    assert again.url.path == "/app/shop/cart"
    assert "9.00 EUR" in again.text

    too_many = await customer.press("/app/shop/cart/items", listing_id=listing_id, quantity="4")
    assert ("success", "Your cart holds 4 of “Hamlet”.") in flashes(too_many)
    short = await check_out(customer)
    short_page = await customer.get(short.headers["location"])
    bogus = await customer.press("/app/shop/cart/items", listing_id=listing_id, quantity="100")
    removed = await customer.press("/app/shop/cart/items", listing_id=listing_id, quantity="0")

    await customer.press("/app/shop/cart/items", listing_id=listing_id, quantity="2")
    cart_page = await customer.get("/app/shop/cart")
    key = _KEY.search(cart_page.text)
    assert key is not None
    first = await check_out(customer, key=key[1])
    second = await check_out(customer, key=key[1])
    order_id = order_id_of(first)
    order_page = await customer.get(first.headers["location"])
    mine = await customer.get("/app/shop/orders")
    empty = await check_out(customer, key=uuid.uuid4().hex)  # an empty cart shows no checkout form
    empty_page = await customer.get(empty.headers["location"])

    cancelled = await customer.press(f"/app/shop/orders/{order_id}/cancel")
    twice = await customer.press(f"/app/shop/orders/{order_id}/cancel")
    forged = await customer.client.post("/app/shop/checkout", data={"idempotency_key": key[1]})

    assert short.headers["location"] == "/app/shop/cart"
    assert (
        "error",
        "Not enough copies left of: Hamlet. Change the copies and check out again.",
    ) in flashes(short_page)
    assert ("error", "Copies are a whole number from 0 to 99.") in flashes(bogus)
    assert ("success", "Taken out of your cart.") in flashes(removed)
    assert "Your cart is empty." in removed.text
    assert order_id_of(second) == order_id
    assert order_page.status_code == 200
    assert ("success", f"Order {order_id[:8]} is placed; your books are held while you pay.") in flashes(
        order_page
    )
    assert "Pending payment" in order_page.text
    assert "Cancel order" in order_page.text
    assert "Mark packed" not in order_page.text
    assert listed(mine) == [("pending_payment", order_id)]
    assert ("error", "Your cart is empty: add a book first.") in flashes(empty_page)
    assert ("success", f"Order {order_id[:8]} is cancelled.") in flashes(cancelled)
    assert 'badge-order-cancelled">Cancelled' in cancelled.text
    assert "Cancel order" not in cancelled.text
    assert ("error", f"Order {order_id[:8]} is cancelled now, so it cannot be cancelled.") in flashes(twice)
    assert forged.status_code == 400


async def test_staff_move_a_paid_order_along_on_the_board(
    browser: BrowserFactory, pg_database: Database, web_settings: Settings
) -> None:
    """The board filters and pages; staff pack, ship, deliver; a wrong move is flashed; customers kept out."""
    owner, customer = browser(), browser()
    staff, listing = await stocked_shop(owner, customer, pg_database, web_settings, stock=5)
    placed = []
    for _ in range(2):
        await customer.press("/app/shop/cart/add", listing_id=str(listing.id))
        placed.append(order_id_of(await check_out(customer)))
    paid, pending = placed[0], placed[-1]
    await pay(pg_database, staff, uuid.UUID(paid))

    kept_out = await customer.get("/app/shop/board")
    refused = await customer.press(f"/app/shop/orders/{paid}/move/packed", follow=False)
    customer_view = await customer.get(f"/app/shop/orders/{paid}")
    sent_on = await owner.get("/app/shop/orders", status="paid")
    packed = await owner.press(f"/app/shop/orders/{paid}/move/packed", back="/app/shop/board?status=paid")
    skipped = await owner.press(f"/app/shop/orders/{paid}/move/delivered")
    await owner.press(f"/app/shop/orders/{paid}/move/shipped")
    delivered = await owner.press(f"/app/shop/orders/{paid}/move/delivered")
    first_page = await owner.get("/app/shop/board")
    older = re.search(r'<a rel="next" href="([^"]+)"', first_page.text)
    assert older is not None
    second_page = await owner.get(older[1].replace("&amp;", "&"))
    garbled = await owner.get("/app/shop/board", after="not-a-cursor", status="lost")
    cancelled = await owner.press(f"/app/shop/orders/{pending}/cancel", back="/app/shop/board")

    assert kept_out.status_code == 403
    assert refused.status_code == 403
    assert "Mark packed" not in customer_view.text
    assert sent_on.url.path == "/app/shop/board"
    assert listed(sent_on) == [("paid", paid)]
    assert "Mark packed" in sent_on.text
    assert ("success", f"Order {paid[:8]} is packed.") in flashes(packed)
    assert packed.url.path == "/app/shop/board"
    assert listed(packed) == []  # no paid order left under the filter
    assert ("error", f"Order {paid[:8]} is packed now, so it cannot be delivered.") in flashes(skipped)
    assert ("success", f"Order {paid[:8]} is delivered.") in flashes(delivered)
    assert 'badge-order-delivered">Delivered' in delivered.text
    assert [order for _, order in listed(first_page) + listed(second_page)] == placed[::-1]
    assert len(listed(first_page)) == PAGE_SIZE
    assert ("warning", "There is no order status 'lost'; showing every order.") in flashes(garbled)
    assert ("warning", "That page link was not understood; showing the newest orders.") in flashes(garbled)
    assert len(listed(garbled)) == PAGE_SIZE
    assert ("success", f"Order {pending[:8]} is cancelled.") in flashes(cancelled)
    assert ("cancelled", pending) in listed(cancelled)
