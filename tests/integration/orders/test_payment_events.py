"""The orders' payment-events route: only a correctly signed event is read; others are 400 problems."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest

from folio.core.db import Database
from folio.core.settings import Settings
from folio.orders.api import payment_events_url
from folio.payments.api import orders_account, orders_webhook_secrets, signature_header
from tests.support.identity import create_member

pytestmark = pytest.mark.integration


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
