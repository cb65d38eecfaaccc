"""Events, paging, webhook endpoints and signed deliveries, checked with the official ``stripe`` library."""

from __future__ import annotations

import json

import pytest
import stripe
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.outbox import OutboxEvent
from folio.payments import api as payments
from tests.integration.payments.conftest import Gateway, Shop, WebhookReceiver

pytestmark = pytest.mark.integration


def test_every_state_change_is_an_event_and_an_outbox_row(shop: Shop, gateway: Gateway) -> None:
    """A paid intent records its events in order, each with its outbox event on topic payments."""
    client = shop.client
    intent = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True},
        options={"idempotency_key": "evt-order-1"},
    )

    listed = client.v1.events.list().data
    assert [e.type for e in listed] == [
        "payment_intent.succeeded",
        "charge.succeeded",
        "payment_intent.created",
    ]
    first = client.v1.events.retrieve(listed[0].id)
    assert (first.data.object["id"], first.data.object["status"]) == (intent.id, "succeeded")
    assert first.request is not None
    assert first.request.idempotency_key == "evt-order-1"
    assert [e.type for e in client.v1.events.list(params={"type": "payment_intent.*"}).data] == [
        "payment_intent.succeeded",
        "payment_intent.created",
    ]

    async def outbox(session: AsyncSession) -> list[tuple[str, str | None]]:
        rows = await session.execute(
            select(OutboxEvent.type, OutboxEvent.key).where(
                OutboxEvent.topic == payments.TOPIC, OutboxEvent.tenant_id == shop.tenant_id
            )
        )
        return sorted((row.type, row.key) for row in rows)

    assert gateway.run(gateway.database.run(outbox)) == sorted((e.type, e.id) for e in listed)


def test_lists_page_forwards_and_backwards(shop: Shop) -> None:
    """limit, starting_after, ending_before and auto-paging walk 7 customers newest first, each once."""
    client = shop.client
    made = [client.v1.customers.create(params={"name": f"c{n}"}).id for n in range(7)]
    newest_first = list(reversed(made))

    first = client.v1.customers.list(params={"limit": 3})
    assert ([c.id for c in first.data], first.has_more, first.url) == (
        newest_first[:3],
        True,
        "/v1/customers",
    )
    second = client.v1.customers.list(params={"limit": 3, "starting_after": first.data[-1].id})
    assert [c.id for c in second.data] == newest_first[3:6]
    back = client.v1.customers.list(params={"limit": 2, "ending_before": second.data[0].id})
    assert ([c.id for c in back.data], back.has_more) == (newest_first[1:3], True)
    assert [c.id for c in first.auto_paging_iter()] == newest_first
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.list(params={"limit": 101})


def test_webhook_endpoints_are_managed_and_show_their_secret_once(shop: Shop) -> None:
    """Create shows the whsec_ secret; retrieve, update, list and delete do not."""
    client = shop.client
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": "https://shop.example/hooks", "enabled_events": ["payment_intent.succeeded"]}
    )
    assert endpoint.id.startswith("we_")
    assert endpoint.secret is not None
    assert endpoint.secret.startswith("whsec_")
    assert "secret" not in client.v1.webhook_endpoints.retrieve(endpoint.id)

    disabled = client.v1.webhook_endpoints.update(
        endpoint.id, params={"disabled": True, "enabled_events": ["*"]}
    )
    assert (disabled.status, disabled.enabled_events) == ("disabled", ["*"])
    assert [e.id for e in client.v1.webhook_endpoints.list().data] == [endpoint.id]
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.webhook_endpoints.create(
            params={"url": "https://shop.example/x", "enabled_events": ["invoice.paid"]}
        )
    assert raised.value.param == "enabled_events"
    assert client.v1.webhook_endpoints.delete(endpoint.id).deleted is True
    assert client.v1.webhook_endpoints.list().data == []


def _deliver(gateway: Gateway, event_id: str) -> list[payments.DeliveryOutcome]:
    deliveries = gateway.run(
        payments.webhook_deliveries(gateway.database, settings=gateway.settings, event_id=event_id)
    )
    return [gateway.run(payments.deliver_webhook(delivery)) for delivery in deliveries]


def test_a_delivered_event_verifies_with_construct_event(
    shop: Shop, gateway: Gateway, receiver: WebhookReceiver
) -> None:
    """The endpoint that wants the event gets it signed; stripe.Webhook.construct_event accepts it."""
    client = shop.client
    wanted = client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["payment_intent.succeeded"]}
    )
    client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["refund.created"]})
    client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True}
    )
    event = client.v1.events.list(params={"type": "payment_intent.succeeded"}).data[0]
    assert event.pending_webhooks == 1

    outcomes = _deliver(gateway, event.id)

    assert [(o.delivered, o.status_code) for o in outcomes] == [(True, 200)]
    assert len(receiver.received) == 1
    got = receiver.received[0]
    verified = stripe.Webhook.construct_event(got.body, got.signature, wanted.secret)
    assert (verified.id, verified.type) == (event.id, "payment_intent.succeeded")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(got.body, got.signature, "whsec_wrong")


def test_a_rolled_secret_keeps_signing_through_its_grace_period(
    shop: Shop, gateway: Gateway, receiver: WebhookReceiver
) -> None:
    """While the old secret lives both verify (two v1 entries); after expires_in=0 only the new one does."""
    client = shop.client
    endpoint = client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"]})
    old = endpoint.secret
    rolled = client.raw_request("post", f"/v1/webhook_endpoints/{endpoint.id}/roll_secret", expires_in=3600)
    new = json.loads(rolled.body)["secret"]
    client.v1.customers.create(params={"email": "roll@example.com"})
    event_id = client.v1.events.list().data[0].id

    _deliver(gateway, event_id)
    got = receiver.received[-1]
    assert got.signature is not None
    assert got.signature.count("v1=") == 2
    for secret in (old, new):
        assert stripe.Webhook.construct_event(got.body, got.signature, secret).id == event_id

    rolled_again = client.raw_request(
        "post", f"/v1/webhook_endpoints/{endpoint.id}/roll_secret", expires_in=0
    )
    newest = json.loads(rolled_again.body)["secret"]
    _deliver(gateway, event_id)
    got = receiver.received[-1]
    assert stripe.Webhook.construct_event(got.body, got.signature, newest).id == event_id
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(got.body, got.signature, new)


def test_webhook_simulations_and_a_failing_endpoint(
    shop: Shop, gateway: Gateway, receiver: WebhookReceiver
) -> None:
    """delay_webhook defers the delivery, duplicate_webhook asks for two; a 500 is an undelivered outcome."""
    client = shop.client
    client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["customer.created"]})
    client.v1.customers.create(
        params={"name": "late"}, options={"headers": {"Folio-Simulate": "delay_webhook"}}
    )
    client.v1.customers.create(
        params={"name": "twice"}, options={"headers": {"Folio-Simulate": "duplicate_webhook"}}
    )
    twice, late = client.v1.events.list().data

    plan = {
        event.id: gateway.run(
            payments.webhook_deliveries(gateway.database, settings=gateway.settings, event_id=event.id)
        )[0]
        for event in (late, twice)
    }
    delay = gateway.settings.payments.simulated_webhook_delay_s
    assert plan[late.id].not_before.timestamp() - late.created == pytest.approx(delay, abs=1)
    assert (plan[late.id].copies, plan[twice.id].copies) == (1, 2)

    receiver.status = 500
    outcome = gateway.run(payments.deliver_webhook(plan[twice.id]))
    assert (outcome.delivered, outcome.status_code, outcome.error) == (False, 500, "HTTP 500")
