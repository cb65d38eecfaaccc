"""Ids, test cards, parameter errors, receipts and the public surface of payments."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

import folio.payments.api
from folio.payments.cards import MAGIC_PAYMENT_METHODS, OUTCOMES, TEST_CARDS, card_for_number, luhn_valid
from folio.payments.errors import InvalidRequestError
from folio.payments.ids import new_id, tenant_of
from folio.payments.receipts import (
    Receipt,
    ReceiptLine,
    format_amount,
    render_receipt_html,
    render_receipt_text,
)
from folio.payments.schemas import CheckoutSessionCreate, CustomerCreate, PaymentIntentCreate, parse

pytestmark = pytest.mark.unit


def test_an_id_names_its_shop_and_a_foreign_string_names_none() -> None:
    """new_id embeds the tenant (read back by tenant_of); malformed ids give None, never an error."""
    tenant = uuid.uuid4()
    ids = {new_id("payment_intent", tenant) for _ in range(100)}

    assert len(ids) == 100
    assert all(i.startswith("pi_") and tenant_of(i) == tenant for i in ids)
    assert new_id("checkout.session", tenant).startswith("cs_test_")
    for foreign in ("pi_123", "", "cus_" + "z" * 39, "cus_" + "!" * 39):
        assert tenant_of(foreign) is None


def test_every_test_card_is_a_valid_number_with_a_known_outcome() -> None:
    """Stripe's test numbers pass Luhn, each maps to an outcome, each magic id to its card."""
    assert all(luhn_valid(number) and card.outcome in OUTCOMES for number, card in TEST_CARDS.items())
    assert MAGIC_PAYMENT_METHODS["pm_card_chargeDeclinedExpiredCard"].number == "4000000000000069"
    assert not luhn_valid("4242424242424241")
    assert card_for_number("4111111111111111").outcome == "test_mode_live_card"
    declines = {key: (o.code, o.decline_code) for key, o in OUTCOMES.items() if not o.succeeds}
    assert declines["insufficient_funds"] == ("card_declined", "insufficient_funds")
    assert declines["processing_error"] == ("processing_error", "processing_error")


@pytest.mark.parametrize(
    ("model", "params", "message", "code", "param"),
    [
        (
            PaymentIntentCreate,
            {"currency": "eur"},
            "Missing required param: amount.",
            "parameter_missing",
            "amount",
        ),
        (
            CustomerCreate,
            {"colour": "red"},
            "Received unknown parameter: colour",
            "parameter_unknown",
            "colour",
        ),
        (
            PaymentIntentCreate,
            {"amount": "1.5", "currency": "eur"},
            "Invalid integer: 1.5",
            "parameter_invalid_integer",
            "amount",
        ),
        (
            PaymentIntentCreate,
            {"amount": "5", "currency": "euro"},
            "Invalid currency: euro",
            "parameter_invalid",
            "currency",
        ),
        (
            PaymentIntentCreate,
            {"amount": "5", "currency": "eur", "capture_method": "later"},
            "Invalid capture_method: must be one of automatic, automatic_async or manual",
            "parameter_invalid",
            "capture_method",
        ),
        (
            CheckoutSessionCreate,
            {"mode": "payment", "success_url": "https://x.example", "line_items": [{"quantity": "0"}]},
            None,
            "parameter_invalid_integer",
            "line_items[0][quantity]",
        ),
    ],
    ids=["missing", "unknown", "integer", "currency", "choice", "nested"],
)
def test_parameter_errors_read_as_stripes(
    model: type, params: dict[str, object], message: str | None, code: str, param: str
) -> None:
    """The first pydantic error reads as Stripe's message, code and bracketed param."""
    with pytest.raises(InvalidRequestError) as raised:
        parse(model, params)

    assert (raised.value.stripe_code, raised.value.param) == (code, param)
    if message is not None:
        assert raised.value.message == message


def test_amounts_are_written_in_the_currencys_unit() -> None:
    """Two-decimal currencies show cents; zero-decimal ones do not."""
    assert format_amount(123456, "eur") == "1,234.56 EUR"
    assert format_amount(5, "usd") == "0.05 USD"
    assert format_amount(500, "jpy") == "500 JPY"


def test_a_receipt_renders_as_text_and_escaped_html() -> None:
    """The receipt's text and HTML carry its number, amount and lines; the HTML escapes what it shows."""
    receipt = Receipt(
        charge_id="ch_1",
        receipt_number="1234-5678",
        paid_at=dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC),
        currency="eur",
        amount=3300,
        amount_refunded=800,
        card_brand="visa",
        card_last4="4242",
        description="<b>order</b>",
        lines=(ReceiptLine("Dune", 2, 2500),),
        email="a@example.com",
        url="https://folio.example/app/pay/receipts/ch_1/t",
    )

    text = render_receipt_text(receipt)
    html = render_receipt_html(receipt)

    assert "Receipt #1234-5678" in text
    assert "Amount paid: 33.00 EUR" in text
    assert "Refunded: 8.00 EUR" in text
    assert "2 x Dune: 25.00 EUR" in text
    assert "https://folio.example/app/pay/receipts/ch_1/t?format=pdf" in text
    assert "&lt;b&gt;order&lt;/b&gt;" in html
    assert "<b>order</b>" not in html


def test_the_public_surface_is_pinned() -> None:
    """payments.api exports exactly these names (a change here is a reviewed change)."""
    assert sorted(folio.payments.api.__all__) == [
        "CardDetails",
        "CardError",
        "CardOutcome",
        "CheckoutView",
        "DeliveryOutcome",
        "EVENT_TYPES",
        "ORDERS_EVENTS",
        "ORDERS_KEY_NAME",
        "OUTCOMES",
        "PaymentAttempt",
        "PaymentsError",
        "Receipt",
        "ReceiptLine",
        "SIGNATURE_HEADER",
        "SecretKeyCreate",
        "SecretKeyIssued",
        "SecretKeyRead",
        "TEST_CARDS",
        "TOPIC",
        "TestCard",
        "WebhookDelivery",
        "create_secret_key",
        "deliver_webhook",
        "expire_overdue_checkout_sessions",
        "get_receipt",
        "issue_secret_key",
        "list_secret_keys",
        "orders_account",
        "orders_webhook_secrets",
        "pay_checkout_session",
        "render_receipt_html",
        "render_receipt_pdf",
        "revoke_secret_key",
        "send_receipt",
        "signature_header",
        "view_checkout_session",
        "webhook_deliveries",
    ]
