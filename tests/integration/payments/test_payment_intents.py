"""Payment intents and charges through the official ``stripe`` library: test cards, capture, cancel."""

from __future__ import annotations

import pytest
import stripe

from tests.integration.payments.conftest import Shop

pytestmark = pytest.mark.integration

DECLINES = [
    ("4000000000000002", "card_declined", "generic_decline"),
    ("4000000000009995", "card_declined", "insufficient_funds"),
    ("4000000000000069", "expired_card", "expired_card"),
    ("4000000000000119", "processing_error", "processing_error"),
]


def _card(client: stripe.StripeClient, number: str) -> str:
    method = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2040, "cvc": "123"}}
    )
    return method.id


def test_the_success_card_pays_at_once(shop: Shop) -> None:
    """4242 4242 4242 4242 confirmed on create: succeeded, one captured charge with the card's details."""
    client = shop.client
    intent = client.v1.payment_intents.create(
        params={
            "amount": 2000,
            "currency": "eur",
            "payment_method": _card(client, "4242424242424242"),
            "confirm": True,
            "expand": ["latest_charge"],
        }
    )

    assert intent.id.startswith("pi_")
    assert (intent.status, intent.amount_received) == ("succeeded", 2000)
    charge = intent.latest_charge
    assert isinstance(charge, stripe.Charge)
    assert (charge.status, charge.paid, charge.captured, charge.amount_captured) == (
        "succeeded",
        True,
        True,
        2000,
    )
    assert charge.payment_method_details is not None
    card = charge.payment_method_details.card
    assert card is not None
    assert (card.brand, card.last4) == ("visa", "4242")
    assert [c.id for c in client.v1.charges.list(params={"payment_intent": intent.id}).data] == [charge.id]


@pytest.mark.parametrize(("number", "code", "decline_code"), DECLINES, ids=[d[2] for d in DECLINES])
def test_each_declining_card_fails_as_stripe_says(
    shop: Shop, number: str, code: str, decline_code: str
) -> None:
    """A declining test card raises CardError (402) and leaves the intent waiting for another method."""
    client = shop.client
    intent = client.v1.payment_intents.create(
        params={"amount": 1500, "currency": "usd", "payment_method": _card(client, number)}
    )

    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.confirm(intent.id)

    assert raised.value.http_status == 402
    assert (raised.value.code, raised.value.error.decline_code) == (code, decline_code)  # type: ignore[union-attr]
    after = client.v1.payment_intents.retrieve(intent.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error is not None
    assert after.last_payment_error.decline_code == decline_code
    charge = client.v1.charges.retrieve(str(after.latest_charge))
    assert (charge.status, charge.failure_code, charge.paid) == ("failed", code, False)


def test_a_declined_intent_can_be_paid_with_another_card(shop: Shop) -> None:
    """After a decline, confirming with a good test payment method succeeds (two charges, one paid)."""
    client = shop.client
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.create(
            params={
                "amount": 900,
                "currency": "eur",
                "payment_method": "pm_card_chargeDeclined",
                "confirm": True,
            }
        )
    failed = raised.value.error.payment_intent  # type: ignore[union-attr]
    assert failed is not None

    paid = client.v1.payment_intents.confirm(failed.id, params={"payment_method": "pm_card_visa"})

    assert paid.status == "succeeded"
    charges = client.v1.charges.list(params={"payment_intent": paid.id}).data
    assert sorted(c.status for c in charges) == ["failed", "succeeded"]


def test_manual_capture_authorises_then_captures_part(shop: Shop) -> None:
    """capture_method=manual holds the amount; capturing part of it succeeds the intent with that amount."""
    client = shop.client
    intent = client.v1.payment_intents.create(
        params={
            "amount": 5000,
            "currency": "eur",
            "payment_method": "pm_card_mastercard",
            "capture_method": "manual",
            "confirm": True,
        }
    )
    assert (intent.status, intent.amount_capturable) == ("requires_capture", 5000)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 6000})

    captured = client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 4000})

    assert (captured.status, captured.amount_received, captured.amount_capturable) == ("succeeded", 4000, 0)
    charge = client.v1.charges.retrieve(str(captured.latest_charge))
    assert (charge.captured, charge.amount_captured) == (True, 4000)


def test_cancel_releases_an_unpaid_intent_and_refuses_a_paid_one(shop: Shop) -> None:
    """An intent awaiting payment cancels with its reason; a succeeded one cannot be cancelled."""
    client = shop.client
    waiting = client.v1.payment_intents.create(params={"amount": 700, "currency": "eur"})
    cancelled = client.v1.payment_intents.cancel(waiting.id, params={"cancellation_reason": "abandoned"})
    assert (cancelled.status, cancelled.cancellation_reason) == ("canceled", "abandoned")
    assert cancelled.canceled_at is not None

    paid = client.v1.payment_intents.create(
        params={"amount": 700, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True}
    )
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.cancel(paid.id)
    assert raised.value.code == "payment_intent_unexpected_state"


def test_update_changes_amount_before_payment_only(shop: Shop) -> None:
    """Amount and method change while unpaid; after payment only the description may."""
    client = shop.client
    customer = client.v1.customers.create(params={"email": "pay@example.com"})
    intent = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "eur", "customer": customer.id}
    )

    updated = client.v1.payment_intents.update(
        intent.id, params={"amount": 1200, "payment_method": "pm_card_visa", "metadata": {"order": "42"}}
    )
    assert (updated.amount, updated.status, updated.metadata.to_dict()) == (
        1200,
        "requires_confirmation",
        {"order": "42"},
    )
    client.v1.payment_intents.confirm(intent.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.update(intent.id, params={"amount": 1})
    assert client.v1.payment_intents.update(intent.id, params={"description": "paid"}).description == "paid"
    assert [i.id for i in client.v1.payment_intents.list(params={"customer": customer.id}).data] == [
        intent.id
    ]


def test_a_bad_card_number_is_refused_before_any_charge(shop: Shop) -> None:
    """A number failing the Luhn check is CardError incorrect_number; a non-test card is declined."""
    client = shop.client
    with pytest.raises(stripe.CardError) as raised:
        _card(client, "4242424242424241")
    assert raised.value.code == "incorrect_number"

    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.create(
            params={
                "amount": 1000,
                "currency": "eur",
                "payment_method": _card(client, "4111111111111111"),
                "confirm": True,
            }
        )
    assert declined.value.error.decline_code == "test_mode_live_card"  # type: ignore[union-attr]


def test_simulated_decline_and_server_error(shop: Shop) -> None:
    """Folio-Simulate: decline declines the success card; server_error is a 500 that changes nothing."""
    client = shop.client
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True},
            options={"headers": {"Folio-Simulate": "decline"}},
        )
    assert raised.value.error.decline_code == "generic_decline"  # type: ignore[union-attr]

    with pytest.raises(stripe.APIError) as failed:
        client.v1.customers.create(
            params={"email": "x@example.com"}, options={"headers": {"Folio-Simulate": "server_error"}}
        )
    assert failed.value.http_status == 500
    assert client.v1.customers.list().data == []
