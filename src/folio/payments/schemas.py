"""The parameters each Stripe-compatible call accepts, validated as Stripe validates them.

Bodies arrive form-encoded (``folio.payments.form_encoding`` nests them), so every
value starts as a string and pydantic's lax mode coerces it (``"1000"`` to 1000,
``"true"`` to True). Unknown parameters are refused, as Stripe refuses them.
``parse`` turns pydantic's errors into Stripe's: ``Missing required param: amount.``
(``parameter_missing``), ``Received unknown parameter: foo`` (``parameter_unknown``),
``Invalid integer: abc`` (``parameter_invalid_integer``), each naming the parameter in
Stripe's bracket form (``line_items[0][quantity]``).

Also the DTOs of Folio's own surfaces (the secret keys' routes and commands).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from folio.core.text import CleanText
from folio.payments.errors import InvalidRequestError

__all__ = [
    "EVENT_TYPES",
    "CardDetails",
    "ChargeList",
    "CheckoutLineItem",
    "CheckoutSessionCreate",
    "CheckoutSessionList",
    "CustomerCreate",
    "CustomerList",
    "CustomerUpdate",
    "EventList",
    "Expandable",
    "ListParams",
    "NoParams",
    "PaymentIntentCancel",
    "PaymentIntentCapture",
    "PaymentIntentConfirm",
    "PaymentIntentCreate",
    "PaymentIntentList",
    "PaymentIntentUpdate",
    "PaymentMethodCreate",
    "RefundCreate",
    "RefundList",
    "SecretKeyCreate",
    "SecretKeyIssued",
    "SecretKeyRead",
    "WebhookEndpointCreate",
    "WebhookEndpointRoll",
    "WebhookEndpointUpdate",
    "parse",
]

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_AMOUNT = 99_999_999
"""Stripe's largest amount: 999,999.99 in a two-decimal currency."""

MIN_AMOUNT = 50
"""Stripe's smallest charge, in minor units (50 cents)."""

EVENT_TYPES = frozenset(
    {
        "charge.captured",
        "charge.failed",
        "charge.refunded",
        "charge.succeeded",
        "checkout.session.completed",
        "checkout.session.expired",
        "customer.created",
        "customer.deleted",
        "customer.updated",
        "payment_intent.amount_capturable_updated",
        "payment_intent.canceled",
        "payment_intent.created",
        "payment_intent.payment_failed",
        "payment_intent.succeeded",
        "refund.created",
    }
)
"""Every event type Folio emits: what a webhook endpoint may subscribe to (or ``*``, all of them)."""


# --- shared field types ---------------------------------------------------------------------------


def _metadata(value: Any) -> Any:
    if value == "":
        return {}
    if isinstance(value, list):  # metadata[0]=x reads as a list: its keys were indexes
        return {str(index): item for index, item in enumerate(value)}
    return value


def _check_metadata(value: dict[str, str]) -> dict[str, str]:
    if len(value) > 50:  # noqa: PLR2004 - Stripe's limit
        raise ValueError("metadata may have at most 50 keys")
    for key, item in value.items():
        if len(key) > 40:  # noqa: PLR2004 - Stripe's limit
            raise ValueError(f"metadata key {key!r} is longer than 40 characters")
        if len(item) > 500:  # noqa: PLR2004 - Stripe's limit
            raise ValueError(f"metadata value for {key!r} is longer than 500 characters")
    return value


Metadata = Annotated[dict[str, str], BeforeValidator(_metadata), AfterValidator(_check_metadata)]
"""Up to 50 string pairs (keys up to 40 characters, values up to 500). ``""`` means none; on an
update an empty value removes its key, as at Stripe."""

Currency = Annotated[str, StringConstraints(to_lower=True, pattern=r"^[a-zA-Z]{3}$")]
"""An ISO 4217 code, stored lowercase as Stripe answers it."""

Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
ObjectRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
Text = Annotated[str, CleanText(multiline=True, max_length=5_000)]
ShortText = Annotated[str, CleanText(max_length=256)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2_048, pattern=r"^https?://\S+$")]


class Params(BaseModel):
    """Base of every call's parameters: unknown names are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Expandable(Params):
    """A call whose answer may expand related objects (``expand[]=latest_charge``)."""

    expand: list[Annotated[str, StringConstraints(max_length=100)]] = Field(
        default_factory=list, max_length=20
    )


class NoParams(Expandable):
    """A call that takes nothing but ``expand``."""


class ListParams(Expandable):
    """Stripe's paging: ``limit`` (1 to 100, default 10), then ``starting_after`` or ``ending_before``."""

    limit: int = Field(default=10, ge=1, le=100)
    starting_after: ObjectRef | None = None
    ending_before: ObjectRef | None = None


# --- customers ------------------------------------------------------------------------------------


class CustomerCreate(Expandable):
    """``POST /v1/customers``."""

    email: Email | None = None
    name: ShortText | None = None
    description: Text | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    metadata: Metadata = Field(default_factory=dict)


class CustomerUpdate(Expandable):
    """``POST /v1/customers/{id}``: only what is sent changes; ``""`` clears a field."""

    email: Email | Literal[""] | None = None
    name: ShortText | None = None
    description: Text | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    metadata: Metadata | None = None


class CustomerList(ListParams):
    """``GET /v1/customers``."""

    email: Annotated[str, StringConstraints(max_length=320)] | None = None


# --- payment methods ------------------------------------------------------------------------------


class CardDetails(Params):
    """A card's number, expiry and CVC (test numbers only: see ``folio.payments.cards``)."""

    number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)]
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=0, le=9999)
    cvc: Annotated[str, StringConstraints(pattern=r"^[0-9]{3,4}$")] | None = None

    @field_validator("number")
    @classmethod
    def _digits_only(cls, value: str) -> str:
        return value.replace(" ", "").replace("-", "")


class BillingDetails(Params):
    """Who pays: the billing e-mail and name."""

    email: Email | None = None
    name: ShortText | None = None


class PaymentMethodCreate(Expandable):
    """``POST /v1/payment_methods``: a test card."""

    type: Literal["card"]
    card: CardDetails
    billing_details: BillingDetails | None = None
    metadata: Metadata = Field(default_factory=dict)


# --- payment intents ------------------------------------------------------------------------------

CaptureMethod = Literal["automatic", "automatic_async", "manual"]


class AutomaticPaymentMethods(Params):
    """Accepted for compatibility; cards are the only method either way."""

    enabled: bool
    allow_redirects: Literal["always", "never"] | None = None


class PaymentIntentCreate(Expandable):
    """``POST /v1/payment_intents``."""

    amount: int = Field(le=MAX_AMOUNT)
    currency: Currency
    customer: ObjectRef | None = None
    payment_method: ObjectRef | None = None
    confirm: bool = False
    capture_method: CaptureMethod = "automatic_async"
    description: Text | None = None
    metadata: Metadata = Field(default_factory=dict)
    receipt_email: Email | None = None
    payment_method_types: list[Literal["card"]] | None = None
    automatic_payment_methods: AutomaticPaymentMethods | None = None
    return_url: Url | None = None
    off_session: bool | None = None
    statement_descriptor: Annotated[str, StringConstraints(max_length=22)] | None = None


class PaymentIntentUpdate(Expandable):
    """``POST /v1/payment_intents/{id}``."""

    amount: int | None = Field(default=None, le=MAX_AMOUNT)
    currency: Currency | None = None
    customer: ObjectRef | None = None
    payment_method: ObjectRef | None = None
    capture_method: CaptureMethod | None = None
    description: Text | None = None
    metadata: Metadata | None = None
    receipt_email: Email | Literal[""] | None = None


class PaymentIntentConfirm(Expandable):
    """``POST /v1/payment_intents/{id}/confirm``."""

    payment_method: ObjectRef | None = None
    receipt_email: Email | None = None
    capture_method: CaptureMethod | None = None
    return_url: Url | None = None
    off_session: bool | None = None


class PaymentIntentCapture(Expandable):
    """``POST /v1/payment_intents/{id}/capture``: all that was authorised, or ``amount_to_capture`` of it."""

    amount_to_capture: Amount | None = None
    metadata: Metadata | None = None


class PaymentIntentCancel(Expandable):
    """``POST /v1/payment_intents/{id}/cancel``."""

    cancellation_reason: Literal["duplicate", "fraudulent", "requested_by_customer", "abandoned"] | None = (
        None
    )


class PaymentIntentList(ListParams):
    """``GET /v1/payment_intents``."""

    customer: ObjectRef | None = None


class ChargeList(ListParams):
    """``GET /v1/charges``."""

    customer: ObjectRef | None = None
    payment_intent: ObjectRef | None = None


# --- refunds --------------------------------------------------------------------------------------


class RefundCreate(Expandable):
    """``POST /v1/refunds``: a charge (or a payment intent's charge), all of what is left or ``amount``."""

    charge: ObjectRef | None = None
    payment_intent: ObjectRef | None = None
    amount: int | None = Field(default=None, ge=1, le=MAX_AMOUNT)
    reason: Literal["duplicate", "fraudulent", "requested_by_customer"] | None = None
    metadata: Metadata = Field(default_factory=dict)


class RefundList(ListParams):
    """``GET /v1/refunds``."""

    charge: ObjectRef | None = None
    payment_intent: ObjectRef | None = None


# --- checkout sessions ----------------------------------------------------------------------------


class ProductData(Params):
    """The product a line item sells, named inline."""

    name: ShortText
    description: Text | None = None
    metadata: Metadata = Field(default_factory=dict)


class PriceData(Params):
    """A line item's price, given inline (Folio has no Price objects)."""

    currency: Currency
    unit_amount: Amount
    product_data: ProductData


class CheckoutLineItem(Params):
    """One line: ``price_data`` and a ``quantity``."""

    price_data: PriceData | None = None
    price: ObjectRef | None = None
    quantity: int = Field(ge=1, le=999_999)


class PaymentIntentData(Params):
    """What the session's payment intent is created with."""

    capture_method: CaptureMethod | None = None
    description: Text | None = None
    metadata: Metadata = Field(default_factory=dict)
    receipt_email: Email | None = None


class CheckoutSessionCreate(Expandable):
    """``POST /v1/checkout/sessions`` (``mode=payment``)."""

    mode: Literal["payment", "setup", "subscription"]
    line_items: list[CheckoutLineItem] = Field(min_length=1, max_length=100)
    success_url: Url
    cancel_url: Url | None = None
    client_reference_id: Annotated[str, StringConstraints(max_length=200)] | None = None
    customer: ObjectRef | None = None
    customer_email: Email | None = None
    metadata: Metadata = Field(default_factory=dict)
    expires_at: int | None = None
    payment_intent_data: PaymentIntentData | None = None
    payment_method_types: list[Literal["card"]] | None = None


class CheckoutSessionList(ListParams):
    """``GET /v1/checkout/sessions``."""

    customer: ObjectRef | None = None
    payment_intent: ObjectRef | None = None
    status: Literal["open", "complete", "expired"] | None = None


# --- events and webhook endpoints -----------------------------------------------------------------


class EventList(ListParams):
    """``GET /v1/events``: all, one ``type`` (``*`` wildcards allowed, as at Stripe), or any of ``types``."""

    type: Annotated[str, StringConstraints(max_length=100)] | None = None
    types: list[Annotated[str, StringConstraints(max_length=100)]] | None = Field(default=None, max_length=20)


def _check_event_types(value: list[str]) -> list[str]:
    unknown = sorted(set(value) - EVENT_TYPES - {"*"})
    if unknown:
        raise ValueError(f"must be one of *, {', '.join(sorted(EVENT_TYPES))} (not {', '.join(unknown)})")
    return value


EnabledEvents = Annotated[list[str], Field(min_length=1, max_length=100), AfterValidator(_check_event_types)]


class WebhookEndpointCreate(Expandable):
    """``POST /v1/webhook_endpoints``."""

    url: Url
    enabled_events: EnabledEvents
    description: Text | None = None
    metadata: Metadata = Field(default_factory=dict)
    api_version: Annotated[str, StringConstraints(max_length=40)] | None = None


class WebhookEndpointUpdate(Expandable):
    """``POST /v1/webhook_endpoints/{id}``."""

    url: Url | None = None
    enabled_events: EnabledEvents | None = None
    description: Text | None = None
    metadata: Metadata | None = None
    disabled: bool | None = None


class WebhookEndpointRoll(Expandable):
    """``POST /v1/webhook_endpoints/{id}/roll_secret`` (Folio's): the old secret lives ``expires_in`` s."""

    expires_in: int | None = Field(default=None, ge=0, le=7 * 86_400)


# --- Folio's own surface: the secret keys -----------------------------------------------------------


class SecretKeyCreate(BaseModel):
    """A new secret key's name."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, CleanText(max_length=100)] = Field(
        default="default", description="What the key is for.", examples=["web shop"]
    )


class SecretKeyRead(BaseModel):
    """A shop's secret key, as listed (never the key itself)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The key's id (to revoke it).")
    name: str = Field(description="What the key is for.", examples=["web shop"])
    hint: str = Field(description="The key's last four characters.", examples=["x4Kq"])
    created_at: dt.datetime = Field(description="When it was issued (UTC).")
    revoked_at: dt.datetime | None = Field(description="When it was revoked; null while it works.")


class SecretKeyIssued(SecretKeyRead):
    """A key just issued: the only time ``key`` is shown."""

    key: str = Field(
        description="The secret key, `sk_test_...`: store it now, it is not shown again.",
        examples=["sk_test_3nV0GfAfa9Xtqf6ILbc2Eo1K8cCKXaopxwwOprJ2bZFHzoqJj8L1f8lqmdwQp7a4UW8r9Mz0x4Kq"],
    )


# --- errors ---------------------------------------------------------------------------------------


def _param(location: tuple[int | str, ...]) -> str:
    head, *rest = (str(part) for part in location)
    return head + "".join(f"[{part}]" for part in rest)


_BOUNDS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})
"""Pydantic's errors for a number out of bounds (every bounded number here is an integer)."""

_SHAPES = {
    "dict_type": "must be a hash",
    "model_type": "must be a hash",
    "model_attributes_type": "must be a hash",
    "list_type": "must be an array",
}


def _message(error: Any, param: str) -> tuple[str, str]:
    """Stripe's message and error code for one of pydantic's errors about ``param``."""
    kind, value = error["type"], error.get("input")
    fixed = {
        "missing": (f"Missing required param: {param}.", "parameter_missing"),
        "extra_forbidden": (f"Received unknown parameter: {param}", "parameter_unknown"),
        "int_parsing": (f"Invalid integer: {value}", "parameter_invalid_integer"),
        "bool_parsing": (f"Invalid boolean: {value}", "parameter_invalid"),
    }
    if kind in fixed:
        return fixed[kind]
    if kind.startswith("int_") or kind in _BOUNDS:
        return f"Invalid {param}: {str(error['msg']).lower()}", "parameter_invalid_integer"
    if kind in {"literal_error", "enum"}:
        expected = str(error.get("ctx", {}).get("expected", "")).replace("'", "")
        return f"Invalid {param}: must be one of {expected}", "parameter_invalid"
    if kind == "string_pattern_mismatch" and param.endswith("currency"):
        return f"Invalid currency: {value}", "parameter_invalid"
    reason = _SHAPES.get(kind) or str(error["msg"]).removeprefix("Value error, ")
    return f"Invalid {param}: {reason}", "parameter_invalid"


def parse(model: type[ModelT], params: dict[str, Any]) -> ModelT:
    """``params`` validated as ``model``; Stripe's ``InvalidRequestError`` for the first thing wrong."""
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        error = exc.errors()[0]
        location = tuple(error["loc"])
        param = _param(location) if location else "body"
        message, code = _message(error, param)
        raise InvalidRequestError(message, code=code, param=param) from None
