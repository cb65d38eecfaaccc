"""Stripe's test cards and what each does when charged.

Only test mode exists, so only test numbers are charged: a number that passes the Luhn
check but is not one of these is declined with ``test_mode_live_card``, as Stripe does
in test mode. Stripe's ready-made test payment methods (``pm_card_visa``,
``pm_card_chargeDeclined``, ...) stand for the same cards. The number itself is never
stored: a payment method keeps its brand, last four digits and its ``outcome`` key.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "MAGIC_PAYMENT_METHODS",
    "OUTCOMES",
    "TEST_CARDS",
    "CardOutcome",
    "TestCard",
    "brand_of",
    "card_for_number",
    "luhn_valid",
]


@dataclass(frozen=True)
class CardOutcome:
    """What charging a card does: succeed, or fail with Stripe's error ``code`` and ``decline_code``."""

    key: str
    succeeds: bool
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None
    network_status: str = "approved_by_network"
    outcome_type: str = "authorized"
    seller_message: str = "Payment complete."


DECLINED_SELLER_MESSAGE = "The bank did not return any further details with this decline."

OUTCOMES: dict[str, CardOutcome] = {
    outcome.key: outcome
    for outcome in (
        CardOutcome("success", succeeds=True),
        CardOutcome(
            "generic_decline",
            succeeds=False,
            code="card_declined",
            decline_code="generic_decline",
            message="Your card was declined.",
            network_status="declined_by_network",
            outcome_type="issuer_declined",
            seller_message=DECLINED_SELLER_MESSAGE,
        ),
        CardOutcome(
            "insufficient_funds",
            succeeds=False,
            code="card_declined",
            decline_code="insufficient_funds",
            message="Your card has insufficient funds.",
            network_status="declined_by_network",
            outcome_type="issuer_declined",
            seller_message=DECLINED_SELLER_MESSAGE,
        ),
        CardOutcome(
            "lost_card",
            succeeds=False,
            code="card_declined",
            decline_code="lost_card",
            message="Your card was declined.",
            network_status="declined_by_network",
            outcome_type="issuer_declined",
            seller_message=DECLINED_SELLER_MESSAGE,
        ),
        CardOutcome(
            "expired_card",
            succeeds=False,
            code="expired_card",
            decline_code="expired_card",
            message="Your card has expired.",
            network_status="declined_by_network",
            outcome_type="issuer_declined",
            seller_message=DECLINED_SELLER_MESSAGE,
        ),
        CardOutcome(
            "incorrect_cvc",
            succeeds=False,
            code="incorrect_cvc",
            decline_code="incorrect_cvc",
            message="Your card's security code is incorrect.",
            network_status="declined_by_network",
            outcome_type="issuer_declined",
            seller_message=DECLINED_SELLER_MESSAGE,
        ),
        CardOutcome(
            "processing_error",
            succeeds=False,
            code="processing_error",
            decline_code="processing_error",
            message="An error occurred while processing your card. Try again in a little bit.",
            network_status="declined_by_network",
            outcome_type="issuer_declined",
            seller_message=DECLINED_SELLER_MESSAGE,
        ),
        CardOutcome(
            "test_mode_live_card",
            succeeds=False,
            code="card_declined",
            decline_code="test_mode_live_card",
            message="Your card was declined. Your request was in test mode, but used a non test card.",
            network_status="not_sent_to_network",
            outcome_type="invalid",
            seller_message="This card is not a test card.",
        ),
    )
}
"""Every outcome a test card can have, by key (the key is what a payment method stores)."""


@dataclass(frozen=True)
class TestCard:
    """A test card number, its brand and funding, and what charging it does."""

    __test__ = False  # not a pytest class, whatever its name

    number: str
    brand: str
    outcome: str
    funding: str = "credit"
    magic_id: str | None = None


TEST_CARDS: dict[str, TestCard] = {
    card.number: card
    for card in (
        TestCard("4242424242424242", "visa", "success", magic_id="pm_card_visa"),
        TestCard("4000056655665556", "visa", "success", funding="debit", magic_id="pm_card_visa_debit"),
        TestCard("5555555555554444", "mastercard", "success", magic_id="pm_card_mastercard"),
        TestCard("378282246310005", "amex", "success", magic_id="pm_card_amex"),
        TestCard("4000000000000002", "visa", "generic_decline", magic_id="pm_card_chargeDeclined"),
        TestCard(
            "4000000000009995",
            "visa",
            "insufficient_funds",
            magic_id="pm_card_chargeDeclinedInsufficientFunds",
        ),
        TestCard("4000000000009987", "visa", "lost_card", magic_id="pm_card_chargeDeclinedLostCard"),
        TestCard("4000000000000069", "visa", "expired_card", magic_id="pm_card_chargeDeclinedExpiredCard"),
        TestCard("4000000000000127", "visa", "incorrect_cvc", magic_id="pm_card_chargeDeclinedIncorrectCvc"),
        TestCard(
            "4000000000000119", "visa", "processing_error", magic_id="pm_card_chargeDeclinedProcessingError"
        ),
    )
}
"""Stripe's test numbers Folio honours, by number."""

MAGIC_PAYMENT_METHODS: dict[str, TestCard] = {
    card.magic_id: card for card in TEST_CARDS.values() if card.magic_id is not None
}
"""Stripe's ready-made test payment method ids, each standing for its card."""


def luhn_valid(number: str) -> bool:
    """Whether ``number`` (digits only) passes the Luhn check every card number passes."""
    if not number.isdecimal() or not 12 <= len(number) <= 19:  # noqa: PLR2004 - card numbers' lengths
        return False
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2  # noqa: PLR2004 - doubling past 9
        total += digit
    return total % 10 == 0


def brand_of(number: str) -> str:
    """The card brand a number's prefix says (``unknown`` when none matches)."""
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    return "unknown"


def card_for_number(number: str) -> TestCard:
    """The test card ``number`` is, or one declined as ``test_mode_live_card`` (precondition: Luhn-valid)."""
    card = TEST_CARDS.get(number)
    if card is not None:
        return card
    return TestCard(number, brand_of(number), "test_mode_live_card")
