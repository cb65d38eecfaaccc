"""Steps of the commerce journeys on a running platform, over its HTTP API (J7, J10, the one-trace test).

``shop_with_a_cart`` opens a shop with one listing and a customer holding it in the cart;
``buy_and_pay`` checks it out and pays on the hosted page with Stripe's 4242 test card,
then waits for the signed webhook to mark the order paid.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.support.folio_up import FolioUp
from tests.support.identity import Session, add_member_and_login, register_and_login

__all__ = [
    "CSRF",
    "PAID_WITHIN_S",
    "TITLE",
    "buy_and_pay",
    "log_tail",
    "pay_with_4242",
    "shop_with_a_cart",
    "wait_for_status",
]

PAID_WITHIN_S = 90.0
"""How long the payment's webhook may take to travel (the worker starts with the platform)."""

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
"""The hosted payment page's CSRF token."""

TITLE = "Seitsemän veljestä"
"""The one work of a journey's shop (Aleksis Kivi, 1870), priced 14.90 EUR."""


def log_tail(home: Path, process: str) -> str:
    """The end of one `folio up` process's log: what a failed wait needs to be understood."""
    log = home / ".folio" / "logs" / f"{process}.jsonl"
    return log.read_text(encoding="utf-8")[-4000:] if log.exists() else f"(no {log})"


async def shop_with_a_cart(http: httpx.AsyncClient) -> tuple[Session, Session, str]:
    """A new shop's owner, a customer with one copy of a listing (two in stock) in the cart, its id."""
    owner = await register_and_login(http)
    customer = await add_member_and_login(http, owner, "customer")
    work = await http.post("/api/v1/catalog/works", json={"title": TITLE}, headers=owner.headers)
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


async def wait_for_status(
    http: httpx.AsyncClient, order_url: str, headers: dict[str, str], status: str
) -> dict[str, Any]:
    """The order once it reaches ``status``, or as it is when ``PAID_WITHIN_S`` runs out."""
    deadline = time.monotonic() + PAID_WITHIN_S
    while True:
        order: dict[str, Any] = (await http.get(order_url, headers=headers)).json()
        if order["status"] == status or time.monotonic() > deadline:
            return order
        await asyncio.sleep(1.0)  # the API's per-member rate limit is 100 a minute


async def pay_with_4242(payment_url: str, headers: dict[str, str] | None = None) -> None:
    """Fill the hosted payment page with Stripe's always-succeeding test card, as a browser would."""
    async with httpx.AsyncClient(timeout=30, headers=headers) as browser:
        page = await browser.get(payment_url)
        assert page.status_code == 200, page.text
        token = CSRF.search(page.text)
        assert token is not None, page.text
        paid_page = await browser.post(
            payment_url,
            data={
                "csrf_token": token.group(1),
                "email": "",
                "number": "4242 4242 4242 4242",
                "expiry": "12 / 34",
                "cvc": "123",
            },
        )
        assert paid_page.status_code == 303, paid_page.text


async def buy_and_pay(http: httpx.AsyncClient, up: FolioUp) -> tuple[Session, Session, str, dict[str, Any]]:
    """A new shop's customer checks out (twice, one key) and pays 4242: the shop's members, listing, order."""
    owner, customer, listing_id = await shop_with_a_cart(http)
    key = {"Idempotency-Key": str(uuid.uuid4()), **customer.headers}
    placed = await http.post("/api/v1/orders", headers=key)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert (order["status"], order["total_minor"]) == ("pending_payment", 1490)
    assert order["payment_url"] is not None, order
    assert (await http.post("/api/v1/orders", headers=key)).json()["id"] == order["id"]  # a retry: one order
    await pay_with_4242(order["payment_url"])
    paid = await wait_for_status(http, f"/api/v1/orders/{order['id']}", customer.headers, "paid")
    assert paid["status"] == "paid", f"{paid}\n{up.output[-2000:]}\n{log_tail(up.home, 'worker-1')}"
    assert paid["payment_reference"] == order["payment_reference"]
    return owner, customer, listing_id, paid
