"""Payment methods, payment intents and their charges: create, confirm with a test card, capture, cancel.

A payment intent moves through Stripe's statuses::

    requires_payment_method --(payment_method set)--> requires_confirmation
    requires_confirmation --confirm, card succeeds--> succeeded          (capture automatic)
                          --confirm, card succeeds--> requires_capture   (capture_method=manual)
                          --confirm, card declined--> requires_payment_method (last_payment_error set)
    requires_capture --capture--> succeeded
    any of the three above --cancel--> canceled

Each confirmation is a charge (succeeded or failed) and its events; a declined card
is a 402 whose state change commits (``Outcome.failed``), so a retry of the same
request replays the decline and a new attempt finds ``last_payment_error``. The
intent is locked for the whole call (``get_locked``), so two confirmations of one
intent never both charge it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from folio.payments.calls import Call, Outcome, get_locked, get_or_404
from folio.payments.cards import (
    MAGIC_PAYMENT_METHODS,
    OUTCOMES,
    CardOutcome,
    TestCard,
    card_for_number,
    luhn_valid,
)
from folio.payments.customers import get_live_customer, merge_metadata
from folio.payments.errors import CardError, InvalidRequestError
from folio.payments.events import record_event
from folio.payments.ids import new_id, random_token
from folio.payments.listing import list_page
from folio.payments.models import Charge, PaymentIntent, PaymentMethod
from folio.payments.objects import Renderer, payment_intent_object, payment_method_object
from folio.payments.receipts import format_amount, queue_receipt_mail
from folio.payments.schemas import (
    MIN_AMOUNT,
    BillingDetails,
    CardDetails,
    ChargeList,
    NoParams,
    PaymentIntentCancel,
    PaymentIntentCapture,
    PaymentIntentConfirm,
    PaymentIntentCreate,
    PaymentIntentList,
    PaymentIntentUpdate,
    PaymentMethodCreate,
)

__all__ = [
    "CANCELABLE",
    "attempt_payment",
    "cancel_payment_intent",
    "capture_payment_intent",
    "card_payment_method",
    "check_amount",
    "confirm_payment_intent",
    "create_payment_intent",
    "create_payment_method",
    "list_charges",
    "list_payment_intents",
    "new_payment_intent",
    "retrieve_charge",
    "retrieve_payment_intent",
    "retrieve_payment_method",
    "update_payment_intent",
]

CONFIRMABLE = ("requires_payment_method", "requires_confirmation")
CANCELABLE = ("requires_payment_method", "requires_confirmation", "requires_capture")
MANUAL = "manual"


def _unexpected_state(intent: PaymentIntent, action: str, allowed: tuple[str, ...]) -> InvalidRequestError:
    return InvalidRequestError(
        f"This PaymentIntent's {action} could not be performed because it has a status of {intent.status}. "
        f"Only a PaymentIntent with one of the following statuses may be {action}d: {', '.join(allowed)}.",
        code="payment_intent_unexpected_state",
        related={"payment_intent": payment_intent_object(intent)},
    )


def check_amount(amount: int, currency: str, *, param: str = "amount") -> None:
    """Stripe's bounds on a charge: a positive integer of at least 50 minor units."""
    if amount < 1:
        raise InvalidRequestError(
            "This value must be greater than or equal to 1.", code="parameter_invalid_integer", param=param
        )
    if amount < MIN_AMOUNT:
        raise InvalidRequestError(
            f"Amount must be at least {format_amount(MIN_AMOUNT, currency)}",
            code="amount_too_small",
            param=param,
        )


# --- payment methods ------------------------------------------------------------------------------


def _method_row(
    call: Call, card: TestCard, *, exp_month: int, exp_year: int, billing: BillingDetails | None
) -> PaymentMethod:
    return PaymentMethod(
        id=new_id("payment_method", call.tenant_id),
        tenant_id=call.tenant_id,
        created_at=call.now,
        type="card",
        brand=card.brand,
        last4=card.number[-4:],
        exp_month=exp_month,
        exp_year=exp_year,
        funding=card.funding,
        outcome=card.outcome,
        billing_email=billing.email if billing is not None else None,
        metadata_={},
    )


def card_payment_method(call: Call, card: CardDetails, billing: BillingDetails | None) -> PaymentMethod:
    """A payment method for a card typed in (API or hosted page); Stripe's card errors when it is invalid.

    Refuses a number that fails the Luhn check (``incorrect_number``) and an expiry in
    the past (``invalid_expiry_year``/``_month``). Two-digit years are this century's.
    """
    if not luhn_valid(card.number):
        raise CardError("Your card number is incorrect.", code="incorrect_number", param="card[number]")
    year = card.exp_year + 2000 if card.exp_year < 100 else card.exp_year  # noqa: PLR2004 - two-digit years
    if year < call.now.year:
        raise CardError(
            "Your card's expiration year is invalid.", code="invalid_expiry_year", param="card[exp_year]"
        )
    if (year, card.exp_month) < (call.now.year, call.now.month):
        raise CardError(
            "Your card's expiration month is invalid.", code="invalid_expiry_month", param="card[exp_month]"
        )
    return _method_row(
        call, card_for_number(card.number), exp_month=card.exp_month, exp_year=year, billing=billing
    )


async def resolve_payment_method(
    session: AsyncSession, call: Call, reference: str, *, param: str = "payment_method"
) -> PaymentMethod:
    """The payment method ``reference`` names: the shop's, or a test one (``pm_card_visa``) made now."""
    magic = MAGIC_PAYMENT_METHODS.get(reference)
    if magic is None:
        return await get_or_404(
            session, PaymentMethod, reference, call=call, name="PaymentMethod", param=param
        )
    row = _method_row(call, magic, exp_month=12, exp_year=call.now.year + 3, billing=None)
    session.add(row)
    return row


async def create_payment_method(session: AsyncSession, call: Call, params: PaymentMethodCreate) -> Outcome:
    """A card payment method from its details (test numbers only)."""
    row = card_payment_method(call, params.card, params.billing_details)
    row.metadata_ = merge_metadata({}, params.metadata)
    session.add(row)
    return Outcome.of(await Renderer(session, call).render(row, params.expand))


async def retrieve_payment_method(
    session: AsyncSession, call: Call, method_id: str, params: NoParams
) -> Outcome:
    """A payment method."""
    row = await resolve_payment_method(session, call, method_id, param="id")
    return Outcome.of(await Renderer(session, call).render(row, params.expand))


# --- payment intents ------------------------------------------------------------------------------


async def new_payment_intent(
    session: AsyncSession,
    call: Call,
    *,
    amount: int,
    currency: str,
    customer_id: str | None = None,
    method: PaymentMethod | None = None,
    capture_method: str = "automatic_async",
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    receipt_email: str | None = None,
    checkout_session_id: str | None = None,
) -> PaymentIntent:
    """Add a payment intent (event ``payment_intent.created``); the caller checked amount and customer."""
    intent_id = new_id("payment_intent", call.tenant_id)
    intent = PaymentIntent(
        id=intent_id,
        tenant_id=call.tenant_id,
        created_at=call.now,
        amount=amount,
        currency=currency,
        status="requires_confirmation" if method is not None else "requires_payment_method",
        capture_method=capture_method,
        customer_id=customer_id,
        payment_method_id=method.id if method is not None else None,
        description=description,
        metadata_=merge_metadata({}, metadata),
        receipt_email=receipt_email,
        amount_received=0,
        amount_capturable=0,
        client_secret=f"{intent_id}_secret_{random_token()}",
        checkout_session_id=checkout_session_id,
    )
    session.add(intent)
    await record_event(session, call, "payment_intent.created", payment_intent_object(intent))
    return intent


async def create_payment_intent(session: AsyncSession, call: Call, params: PaymentIntentCreate) -> Outcome:
    """Create a payment intent, and confirm it at once when ``confirm=true``."""
    check_amount(params.amount, params.currency)
    customer = (
        await get_live_customer(session, call, params.customer, param="customer") if params.customer else None
    )
    method = (
        await resolve_payment_method(session, call, params.payment_method) if params.payment_method else None
    )
    intent = await new_payment_intent(
        session,
        call,
        amount=params.amount,
        currency=params.currency,
        customer_id=customer.id if customer is not None else None,
        method=method,
        capture_method=params.capture_method,
        description=params.description,
        metadata=params.metadata,
        receipt_email=params.receipt_email,
    )
    if params.confirm:
        return await attempt_payment(session, call, intent, method=method, expand=params.expand)
    return Outcome.of(await Renderer(session, call).render(intent, params.expand))


async def retrieve_payment_intent(
    session: AsyncSession, call: Call, intent_id: str, params: NoParams
) -> Outcome:
    """A payment intent."""
    intent = await get_or_404(session, PaymentIntent, intent_id, call=call, name="payment_intent")
    return Outcome.of(await Renderer(session, call).render(intent, params.expand))


async def update_payment_intent(
    session: AsyncSession, call: Call, intent_id: str, params: PaymentIntentUpdate
) -> Outcome:
    """Change an intent: its description, metadata and receipt e-mail any time; the rest before it is paid."""
    intent = await get_locked(session, PaymentIntent, intent_id, call=call, name="payment_intent")
    sent = params.model_fields_set
    payment_fields = sent & {"amount", "currency", "customer", "payment_method", "capture_method"}
    if payment_fields and intent.status not in CONFIRMABLE:
        raise _unexpected_state(intent, "update", CONFIRMABLE)
    if intent.status == "canceled":
        raise _unexpected_state(intent, "update", CONFIRMABLE)
    if params.amount is not None:
        check_amount(params.amount, params.currency or intent.currency)
        intent.amount = params.amount
    if params.currency is not None:
        intent.currency = params.currency
    if params.customer is not None:
        intent.customer_id = (await get_live_customer(session, call, params.customer, param="customer")).id
    if params.payment_method is not None:
        intent.payment_method_id = (await resolve_payment_method(session, call, params.payment_method)).id
        intent.status = "requires_confirmation"
    if params.capture_method is not None:
        intent.capture_method = params.capture_method
    if "description" in sent:
        intent.description = params.description
    if "receipt_email" in sent:
        intent.receipt_email = params.receipt_email or None
    intent.metadata_ = merge_metadata(intent.metadata_, params.metadata)
    return Outcome.of(await Renderer(session, call).render(intent, params.expand))


async def confirm_payment_intent(
    session: AsyncSession, call: Call, intent_id: str, params: PaymentIntentConfirm
) -> Outcome:
    """Charge the intent's (or the given) payment method: 200 with the intent, or 402 with the decline."""
    intent = await get_locked(session, PaymentIntent, intent_id, call=call, name="payment_intent")
    method = (
        await resolve_payment_method(session, call, params.payment_method) if params.payment_method else None
    )
    if params.receipt_email is not None:
        intent.receipt_email = params.receipt_email
    if params.capture_method is not None:
        intent.capture_method = params.capture_method
    return await attempt_payment(session, call, intent, method=method, expand=params.expand)


def _outcome(call: Call, method: PaymentMethod) -> CardOutcome:
    return OUTCOMES["generic_decline" if call.simulate == "decline" else method.outcome]


async def attempt_payment(
    session: AsyncSession,
    call: Call,
    intent: PaymentIntent,
    *,
    method: PaymentMethod | None,
    expand: list[str],
) -> Outcome:
    """Confirm ``intent`` (locked by the caller) with ``method`` or the one it has: one charge and its events.

    Raises ``InvalidRequestError`` when the intent is not awaiting confirmation or has no
    payment method. A declined card is returned as ``Outcome.failed`` (402): the failed
    charge, the intent's ``last_payment_error`` and the events commit with it.
    """
    if intent.status not in CONFIRMABLE:
        raise _unexpected_state(intent, "confirm", CONFIRMABLE)
    if method is None and intent.payment_method_id is not None:
        method = await get_or_404(
            session, PaymentMethod, intent.payment_method_id, call=call, name="PaymentMethod"
        )
    if method is None:
        raise InvalidRequestError(
            "You cannot confirm this PaymentIntent because it's missing a payment method. "
            "Update the PaymentIntent with a payment_method and then confirm it again.",
            code="parameter_missing",
            param="payment_method",
        )
    outcome = _outcome(call, method)
    charge = Charge(
        id=new_id("charge", call.tenant_id),
        tenant_id=call.tenant_id,
        created_at=call.now,
        payment_intent_id=intent.id,
        customer_id=intent.customer_id,
        payment_method_id=method.id,
        amount=intent.amount,
        amount_captured=0,
        amount_refunded=0,
        currency=intent.currency,
        status="succeeded" if outcome.succeeds else "failed",
        captured=False,
        failure_code=outcome.code,
        failure_message=outcome.message,
        outcome={
            "network_status": outcome.network_status,
            "reason": outcome.decline_code,
            "risk_level": "normal",
            "seller_message": outcome.seller_message,
            "type": outcome.outcome_type,
        },
        description=intent.description,
        receipt_email=intent.receipt_email,
        metadata_=dict(intent.metadata_),
    )
    session.add(charge)
    intent.latest_charge_id = charge.id
    renderer = Renderer(session, call)
    if not outcome.succeeds:
        return await _declined(
            session, call, intent=intent, charge=charge, method=method, outcome=outcome, renderer=renderer
        )
    intent.payment_method_id = method.id
    intent.last_payment_error = None
    if intent.capture_method == MANUAL:
        intent.status = "requires_capture"
        intent.amount_capturable = intent.amount
        await record_event(session, call, "charge.succeeded", await renderer.render(charge))
        await record_event(
            session, call, "payment_intent.amount_capturable_updated", payment_intent_object(intent)
        )
    else:
        charge.captured = True
        charge.amount_captured = charge.amount
        intent.status = "succeeded"
        intent.amount_received = intent.amount
        await _send_receipt(session, call, charge)
        await record_event(session, call, "charge.succeeded", await renderer.render(charge))
        await record_event(session, call, "payment_intent.succeeded", payment_intent_object(intent))
    return Outcome.of(await renderer.render(intent, expand))


async def _declined(
    session: AsyncSession,
    call: Call,
    *,
    intent: PaymentIntent,
    charge: Charge,
    method: PaymentMethod,
    outcome: CardOutcome,
    renderer: Renderer,
) -> Outcome:
    error = CardError(
        outcome.message or "Your card was declined.", code=outcome.code, decline_code=outcome.decline_code
    )
    method_object = payment_method_object(method)
    intent.last_payment_error = {**error.error_object(), "payment_method": method_object}
    intent.payment_method_id = None
    intent.status = "requires_payment_method"
    await record_event(session, call, "charge.failed", await renderer.render(charge))
    intent_object = payment_intent_object(intent)
    await record_event(session, call, "payment_intent.payment_failed", intent_object)
    error.related = {"charge": charge.id, "payment_intent": intent_object, "payment_method": method_object}
    return Outcome.failed(error)


async def _send_receipt(session: AsyncSession, call: Call, charge: Charge) -> None:
    """Queue the receipt of a captured charge when it has a receipt e-mail (as Stripe mails receipts)."""
    if charge.receipt_email is not None:
        await queue_receipt_mail(session, call, charge, recipient=charge.receipt_email)


async def capture_payment_intent(
    session: AsyncSession, call: Call, intent_id: str, params: PaymentIntentCapture
) -> Outcome:
    """Capture an authorised intent, in full or ``amount_to_capture`` of it.

    Events ``charge.captured`` and ``payment_intent.succeeded``; the receipt goes out then.
    """
    intent = await get_locked(session, PaymentIntent, intent_id, call=call, name="payment_intent")
    if intent.status != "requires_capture" or intent.latest_charge_id is None:
        raise _unexpected_state(intent, "capture", ("requires_capture",))
    amount = params.amount_to_capture if params.amount_to_capture is not None else intent.amount_capturable
    if amount > intent.amount_capturable:
        raise InvalidRequestError(
            f"The amount_to_capture ({amount}) must be less than or equal to the amount_capturable "
            f"({intent.amount_capturable}).",
            code="amount_too_large",
            param="amount_to_capture",
        )
    check_amount(amount, intent.currency, param="amount_to_capture")
    charge = await get_locked(session, Charge, intent.latest_charge_id, call=call, name="charge")
    charge.captured = True
    charge.amount_captured = amount
    intent.status = "succeeded"
    intent.amount_received = amount
    intent.amount_capturable = 0
    intent.metadata_ = merge_metadata(intent.metadata_, params.metadata)
    await _send_receipt(session, call, charge)
    renderer = Renderer(session, call)
    await record_event(session, call, "charge.captured", await renderer.render(charge))
    await record_event(session, call, "payment_intent.succeeded", payment_intent_object(intent))
    return Outcome.of(await renderer.render(intent, params.expand))


async def cancel_intent(session: AsyncSession, call: Call, intent: PaymentIntent, reason: str | None) -> None:
    """Cancel ``intent`` (locked, cancelable): an authorisation is released; ``payment_intent.canceled``."""
    intent.status = "canceled"
    intent.canceled_at = call.now
    intent.cancellation_reason = reason
    intent.amount_capturable = 0
    await record_event(session, call, "payment_intent.canceled", payment_intent_object(intent))


async def cancel_payment_intent(
    session: AsyncSession, call: Call, intent_id: str, params: PaymentIntentCancel
) -> Outcome:
    """Cancel an intent that is not paid yet (or only authorised)."""
    intent = await get_locked(session, PaymentIntent, intent_id, call=call, name="payment_intent")
    if intent.status not in CANCELABLE:
        raise _unexpected_state(intent, "cancel", CANCELABLE)
    await cancel_intent(session, call, intent, params.cancellation_reason)
    return Outcome.of(await Renderer(session, call).render(intent, params.expand))


async def list_payment_intents(session: AsyncSession, call: Call, params: PaymentIntentList) -> Outcome:
    """The shop's payment intents, newest first, optionally one customer's."""
    filters = [PaymentIntent.customer_id == params.customer] if params.customer is not None else []
    return Outcome.of(
        await list_page(
            session,
            call,
            PaymentIntent,
            params,
            url="/v1/payment_intents",
            name="payment_intent",
            filters=filters,
        )
    )


async def retrieve_charge(session: AsyncSession, call: Call, charge_id: str, params: NoParams) -> Outcome:
    """A charge."""
    charge = await get_or_404(session, Charge, charge_id, call=call, name="charge")
    return Outcome.of(await Renderer(session, call).render(charge, params.expand))


async def list_charges(session: AsyncSession, call: Call, params: ChargeList) -> Outcome:
    """The shop's charges, newest first, optionally one customer's or one intent's."""
    filters: list[Any] = []
    if params.customer is not None:
        filters.append(Charge.customer_id == params.customer)
    if params.payment_intent is not None:
        filters.append(Charge.payment_intent_id == params.payment_intent)
    return Outcome.of(
        await list_page(session, call, Charge, params, url="/v1/charges", name="charge", filters=filters)
    )
