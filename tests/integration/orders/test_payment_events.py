"""The orders' payment-events route: only a correctly signed event is read; each kind moves the order once."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import stripe
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.catalog.api import get_listing
from folio.core.db import Database
from folio.core.outbox import OutboxEvent
from folio.core.settings import Settings
from folio.orders.api import OrderStatus, payment_events_url
from folio.payments.api import (
    deliver_webhook,
    orders_account,
    orders_webhook_secrets,
    signature_header,
    webhook_deliveries,
)
from tests.integration.orders.conftest import Rig, new_listing, new_shop
from tests.integration.orders.test_service import events_of
from tests.support.identity import create_member

pytestmark = pytest.mark.integration

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


async def test_unsigned_and_forged_events_are_refused_and_others_ignored(
    api_client: httpx.AsyncClient, pg_database: Database, migrated_postgres: Settings
) -> None:
    """Unsigned or wrongly signed: 400 invalid-payment-event; signed but not followed by the saga: ignored."""
    shop = (await create_member(pg_database)).tenant_id
    url = payment_events_url(migrated_postgres.gateway.url, shop)
    await orders_account(pg_database, settings=migrated_postgres, tenant_id=shop, webhook_url=url)
    secrets = await orders_webhook_secrets(pg_database, tenant_id=shop, webhook_url=url)
    assert len(secrets) == 1
    route = f"/api/v1/orders/payment-events/{shop}"
    payload = json.dumps({"id": "evt_test_1", "type": "payment_intent.created", "data": {"object": {}}})

    unsigned = await api_client.post(route, content=payload)
    assert (unsigned.status_code, unsigned.json()["code"]) == (400, "invalid-payment-event")
    forged = signature_header(payload, ["whsec_not_the_shops"], timestamp=int(time.time()))
    refused = await api_client.post(route, content=payload, headers={"Stripe-Signature": forged})
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid-payment-event")
    elsewhere = await api_client.post(
        f"/api/v1/orders/payment-events/{uuid.uuid4()}",
        content=payload,
        headers={"Stripe-Signature": signature_header(payload, secrets, timestamp=int(time.time()))},
    )
    assert elsewhere.status_code == 400  # another shop's secrets do not verify it

    signed = signature_header(payload, secrets, timestamp=int(time.time()))
    ignored = await api_client.post(route, content=payload, headers={"Stripe-Signature": signed})
    assert ignored.status_code == 200, ignored.text
    assert ignored.json() == {"received": True, "action": "ignored"}


async def _events(rig: Rig, tenant_id: uuid.UUID, kind: str) -> list[str]:
    """The ids of the shop's payments events of ``kind``, oldest first, from the outbox the relay reads."""

    async def work(session: AsyncSession) -> list[str]:
        rows = await session.scalars(
            select(OutboxEvent.payload)
            .where(
                OutboxEvent.topic == "payments", OutboxEvent.tenant_id == tenant_id, OutboxEvent.type == kind
            )
            .order_by(OutboxEvent.id)
        )
        return [str(payload["event_id"]) for payload in rows]

    return await rig.db.run(work)


async def _deliver_twice(rig: Rig, tenant_id: uuid.UUID, kind: str) -> list[int]:
    """POST the shop's latest ``kind`` event to its endpoints twice, as the webhook worker does; statuses."""
    event_id = (await _events(rig, tenant_id, kind))[-1]
    deliveries = await webhook_deliveries(rig.db, settings=rig.settings, event_id=event_id)
    statuses = []
    async with httpx.AsyncClient() as client:
        for delivery in [*deliveries, *deliveries]:  # a redelivered event changes nothing more
            outcome = await deliver_webhook(delivery, client=client)
            statuses.append(outcome.status_code or 0)
    return statuses


@asynccontextmanager
async def _payments_of(rig: Rig, tenant_id: uuid.UUID) -> AsyncIterator[stripe.StripeClient]:
    """The stripe library on the shop's account, with the key Folio's orders use there."""
    webhook_url = payment_events_url(rig.url, tenant_id)
    key = await orders_account(rig.db, settings=rig.settings, tenant_id=tenant_id, webhook_url=webhook_url)
    http = stripe.HTTPXClient()
    try:
        yield stripe.StripeClient(key, base_addresses={"api": f"{rig.url}/stripe"}, http_client=http)
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]  # the library leaves it unannotated


async def _pay(rig: Rig, url: str) -> None:
    """Pay the checkout at ``url`` on the hosted page with the card that succeeds."""
    async with httpx.AsyncClient(timeout=30) as browser:
        page = await browser.get(url)
        token = _CSRF.search(page.text)
        assert token is not None, page.text
        form = {
            "csrf_token": token.group(1),
            "number": "4242 4242 4242 4242",
            "expiry": "12 / 34",
            "cvc": "123",
        }
        paid = await browser.post(url, data=form)
    assert paid.status_code == 303, paid.text


async def test_refund_and_expiry_events_move_the_order_once(rig: Rig) -> None:
    """Expired checkout: cancelled, stock back; refunds: partial then full; each event delivered twice."""
    shop = await new_shop(rig.db, rig.settings)
    listing = await new_listing(rig.db, shop, price=1250, stock=3)
    await rig.orders.set_cart_item(principal=shop.customer, listing_id=listing.id, quantity=2)
    paid = await rig.orders.place_order(principal=shop.customer, idempotency_key=uuid.uuid4().hex)
    assert paid.payment_url is not None  # the saga's step 2 went through the stripe library to payments
    await rig.orders.set_cart_item(principal=shop.customer, listing_id=listing.id, quantity=1)
    abandoned = await rig.orders.place_order(principal=shop.customer, idempotency_key=uuid.uuid4().hex)
    assert abandoned.payment_reference is not None

    async with _payments_of(rig, shop.tenant_id) as client:
        await client.v1.checkout.sessions.expire_async(abandoned.payment_reference)
        assert await _deliver_twice(rig, shop.tenant_id, "checkout.session.expired") == [200, 200]
        gone = await rig.orders.get_order(principal=shop.customer, order_id=abandoned.id)
        assert gone.status == OrderStatus.CANCELLED
        assert (await get_listing(rig.db, principal=shop.staff, listing_id=listing.id)).stock == 1  # 3 - 2

        await _pay(rig, paid.payment_url)
        assert await _deliver_twice(rig, shop.tenant_id, "checkout.session.completed") == [200, 200]
        session = await client.v1.checkout.sessions.retrieve_async(str(paid.payment_reference))
        intent = str(session.payment_intent)
        await client.v1.refunds.create_async({"payment_intent": intent, "amount": 500})
        assert await _deliver_twice(rig, shop.tenant_id, "charge.refunded") == [200, 200]
        part = await rig.orders.get_order(principal=shop.customer, order_id=paid.id)
        assert (part.status, part.refunded_minor) == (OrderStatus.PARTIALLY_REFUNDED, 500)
        await client.v1.refunds.create_async({"payment_intent": intent})
        assert await _deliver_twice(rig, shop.tenant_id, "charge.refunded") == [200, 200]
        full = await rig.orders.get_order(principal=shop.customer, order_id=paid.id)
        assert (full.status, full.refunded_minor) == (OrderStatus.REFUNDED, 2500)
        assert [kind for kind, _ in await events_of(rig.db, paid.id)] == [
            "OrderPlaced",
            "OrderPaid",
            "OrderPartiallyRefunded",
            "OrderRefunded",
        ]
        assert [kind for kind, _ in await events_of(rig.db, abandoned.id)] == [
            "OrderPlaced",
            "OrderCancelled",
        ]


async def test_a_customers_cancellation_expires_the_open_checkout(rig: Rig) -> None:
    """Cancelled before paying: the order's Checkout Session is expired, so its page takes no payment."""
    shop = await new_shop(rig.db, rig.settings)
    listing = await new_listing(rig.db, shop, price=990, stock=1)
    await rig.orders.set_cart_item(principal=shop.customer, listing_id=listing.id, quantity=1)
    order = await rig.orders.place_order(principal=shop.customer, idempotency_key=uuid.uuid4().hex)
    assert order.payment_reference is not None

    cancelled = await rig.orders.cancel_order(principal=shop.customer, order_id=order.id)

    assert cancelled.status == OrderStatus.CANCELLED
    async with _payments_of(rig, shop.tenant_id) as client:
        session = await client.v1.checkout.sessions.retrieve_async(order.payment_reference)
    assert session.status == "expired"
    assert (await get_listing(rig.db, principal=shop.staff, listing_id=listing.id)).stock == 1
