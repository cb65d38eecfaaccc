"""Checkout Sessions through the official ``stripe`` library, paid on the hosted page over real HTTP."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import stripe

from folio.mail import api as mail
from tests.integration.payments.conftest import Gateway, Shop

pytestmark = pytest.mark.integration

SUCCESS_URL = "https://shop.example/thanks?session={CHECKOUT_SESSION_ID}"
LINE_ITEMS: list[dict[str, Any]] = [
    {"price_data": {"currency": "eur", "unit_amount": 1250, "product_data": {"name": "Dune"}}, "quantity": 2},
    {"price_data": {"currency": "eur", "unit_amount": 800, "product_data": {"name": "Emma"}}, "quantity": 1},
]
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _session(client: stripe.StripeClient, **extra: Any) -> stripe.checkout.Session:
    params: dict[str, Any] = {
        "mode": "payment",
        "success_url": SUCCESS_URL,
        "cancel_url": "https://shop.example/basket",
        "line_items": LINE_ITEMS,
        **extra,
    }
    return client.v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]  # a plain dict of the shape


def _pay(browser: httpx.Client, url: str, number: str, email: str = "") -> httpx.Response:
    page = browser.get(url)
    token = _CSRF.search(page.text)
    assert token is not None, page.text
    form = {"csrf_token": token.group(1), "email": email, "number": number, "expiry": "12 / 34", "cvc": "123"}
    return browser.post(url, data=form)


def test_a_session_is_paid_on_the_hosted_page(shop: Shop, gateway: Gateway) -> None:
    """Decline, then pay: the session completes once, its events and receipt follow, the page moves on."""
    client = shop.client
    email = f"reader-{shop.tenant_id.hex[:12]}@example.com"  # the mail outbox is shared by every run
    session = _session(client, customer_email=email, client_reference_id="order-7")
    assert (session.status, session.payment_status, session.amount_total) == ("open", "unpaid", 3300)
    assert session.url is not None
    assert session.url.startswith(f"{gateway.url}/app/pay/cs_test_")

    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        declined = _pay(browser, session.url, "4000 0000 0000 0002")
        assert declined.status_code == 402
        assert "Your card was declined." in declined.text
        assert client.v1.checkout.sessions.retrieve(session.id).status == "open"

        paid = _pay(browser, session.url, "4242 4242 4242 4242")
        assert (paid.status_code, paid.headers["location"]) == (303, f"/app/pay/{session.id}")
        finished = browser.get(session.url)
        assert f"https://shop.example/thanks?session={session.id}" in finished.text

    done = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
    assert (done.status, done.payment_status, done.url) == ("complete", "paid", None)
    intent = done.payment_intent
    assert isinstance(intent, stripe.PaymentIntent)
    assert (intent.status, intent.amount_received) == ("succeeded", 3300)
    assert (
        len(client.v1.charges.list(params={"payment_intent": intent.id}).data) == 2
    )  # one declined, one paid
    completed = client.v1.events.list(params={"type": "checkout.session.completed"}).data
    assert [e.data.object["id"] for e in completed] == [session.id]
    assert completed[0].data.object["client_reference_id"] == "order-7"

    mails = gateway.run(mail.list_outbox(gateway.database, recipient=email))
    assert [m.subject.startswith("Your receipt #") for m in mails] == [True]
    receipt_url = client.v1.charges.retrieve(str(intent.latest_charge)).receipt_url
    assert receipt_url is not None
    assert receipt_url in mails[0].body
    with httpx.Client(timeout=10) as browser:
        html = browser.get(receipt_url)
        pdf = browser.get(receipt_url, params={"format": "pdf"})
        forged = browser.get(receipt_url[:-4] + "0000")
    assert html.status_code == 200
    assert "33.00 EUR" in html.text
    assert "2 \N{MULTIPLICATION SIGN} Dune" in html.text
    assert (pdf.headers["content-type"], pdf.content[:5]) == ("application/pdf", b"%PDF-")
    assert forged.status_code == 404


def test_a_session_lists_its_line_items_and_expires(shop: Shop, gateway: Gateway) -> None:
    """Line items read back; expiring closes the session (and its page) for good."""
    client = shop.client
    session = _session(client, metadata={"basket": "b-1"})

    items = client.v1.checkout.sessions.line_items.list(session.id).data
    assert [(i.description, i.quantity, i.amount_total) for i in items] == [
        ("Dune", 2, 2500),
        ("Emma", 1, 800),
    ]
    assert [s.id for s in client.v1.checkout.sessions.list(params={"status": "open"}).data] == [session.id]

    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)
    assert [e.type for e in client.v1.events.list().data] == ["checkout.session.expired"]
    with httpx.Client(timeout=10) as browser:
        assert "This checkout has expired" in browser.get(f"{gateway.url}/app/pay/{session.id}").text


def test_a_session_refuses_what_folio_does_not_do(shop: Shop) -> None:
    """Modes other than payment, Price ids and mixed currencies are refused with the parameter named."""
    client = shop.client
    with pytest.raises(stripe.InvalidRequestError) as mode:
        _session(client, mode="subscription")
    assert mode.value.param == "mode"
    with pytest.raises(stripe.InvalidRequestError) as price:
        client.v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "success_url": SUCCESS_URL,
                "line_items": [{"price": "price_123", "quantity": 1}],
            }
        )
    assert (price.value.param, price.value.code) == ("line_items[0][price]", "resource_missing")
    mixed = [
        LINE_ITEMS[0],
        {**LINE_ITEMS[1], "price_data": {**LINE_ITEMS[1]["price_data"], "currency": "usd"}},
    ]
    with pytest.raises(stripe.InvalidRequestError) as currencies:
        _session(client, line_items=mixed)
    assert currencies.value.param == "line_items"
