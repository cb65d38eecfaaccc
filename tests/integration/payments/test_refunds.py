"""Refunds through the official ``stripe`` library: partial, full, too much, and the charge they change."""

from __future__ import annotations

import pytest
import stripe

from tests.integration.payments.conftest import Shop

pytestmark = pytest.mark.integration


def test_partial_then_full_refunds_add_up_to_the_charge(shop: Shop) -> None:
    """Two refunds return all of a charge; the third is refused; the charge says refunded."""
    client = shop.client
    intent = client.v1.payment_intents.create(
        params={"amount": 3000, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True}
    )

    partial = client.v1.refunds.create(
        params={"payment_intent": intent.id, "amount": 1000, "reason": "duplicate"}
    )
    assert (partial.id[:3], partial.amount, partial.status, partial.reason) == (
        "re_",
        1000,
        "succeeded",
        "duplicate",
    )
    assert client.v1.charges.retrieve(str(intent.latest_charge)).refunded is False

    rest = client.v1.refunds.create(params={"charge": str(intent.latest_charge)})
    assert rest.amount == 2000
    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    assert (charge.amount_refunded, charge.refunded) == (3000, True)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"charge": charge.id, "amount": 1})
    assert raised.value.code == "charge_already_refunded"
    listed = client.v1.refunds.list(params={"charge": charge.id}).data
    assert [r.id for r in listed] == [rest.id, partial.id]
    assert client.v1.refunds.retrieve(partial.id).charge == charge.id


def test_a_refund_larger_than_what_is_left_is_refused(shop: Shop) -> None:
    """Refunding more than the unrefunded amount names the amount parameter."""
    client = shop.client
    intent = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True}
    )
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 600})

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500})

    assert (raised.value.param, raised.value.code) == ("amount", "amount_too_large")
    assert "4.00 EUR" in str(raised.value.user_message)


def test_an_uncaptured_or_unpaid_intent_cannot_be_refunded(shop: Shop) -> None:
    """Refunds need a captured charge: an authorised-only or unpaid intent is refused."""
    client = shop.client
    held = client.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "eur",
            "payment_method": "pm_card_visa",
            "capture_method": "manual",
            "confirm": True,
        }
    )
    unpaid = client.v1.payment_intents.create(params={"amount": 1000, "currency": "eur"})

    for intent in (held, unpaid):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            client.v1.refunds.create(params={"payment_intent": intent.id})
        assert raised.value.code == "charge_not_refundable"
