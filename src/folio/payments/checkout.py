"""Checkout Sessions: a basket of line items paid on Folio's hosted page (``/app/pay/<id>``).

A session is created ``open`` (``mode=payment``, line items with inline
``price_data``), answers with the hosted page's ``url``, and ends ``complete`` when a
card pays it (events ``payment_intent.*``, ``charge.*``, then
``checkout.session.completed``) or ``expired`` when it is expired by the API or its
``expires_at`` passes (``checkout.session.expired``; its intent, if a declined attempt
left one, is cancelled). A declined card leaves the session open for another try with
the same payment intent, as Stripe's hosted page does.

Expiry is applied when the session is next read or paid (``retrieve`` and the page
find it overdue and expire it then), and in bulk by ``expire_overdue_sessions`` for a
scheduler; a list shows the stored status.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.tenancy import tenant_filter
from folio.payments.calls import Call, Outcome, find, get_locked, get_or_404
from folio.payments.customers import get_live_customer, merge_metadata
from folio.payments.errors import InvalidRequestError, no_such
from folio.payments.events import record_event
from folio.payments.ids import new_id
from folio.payments.intents import (
    CANCELABLE,
    attempt_payment,
    cancel_intent,
    card_payment_method,
    check_amount,
    new_payment_intent,
)
from folio.payments.listing import list_page
from folio.payments.models import CheckoutSession, PaymentIntent
from folio.payments.objects import Renderer, checkout_session_object, line_item_objects, list_object
from folio.payments.schemas import (
    BillingDetails,
    CardDetails,
    CheckoutSessionCreate,
    CheckoutSessionList,
    ListParams,
    NoParams,
)

__all__ = [
    "CheckoutView",
    "PaymentAttempt",
    "create_checkout_session",
    "expire_checkout_session",
    "expire_overdue_sessions",
    "list_checkout_sessions",
    "list_line_items",
    "pay_checkout_session",
    "retrieve_checkout_session",
    "view_checkout_session",
]

MIN_LIFETIME = dt.timedelta(minutes=30)
MAX_LIFETIME = dt.timedelta(hours=24)


@dataclass(frozen=True)
class CheckoutView:
    """What the hosted page shows of a session."""

    id: str
    status: str
    payment_status: str
    currency: str
    amount_total: int
    lines: list[dict[str, Any]]
    customer_email: str | None
    success_url: str
    cancel_url: str | None
    expires_at: dt.datetime

    @property
    def redirect_url(self) -> str:
        """Where the customer goes once paid: ``success_url`` with ``{CHECKOUT_SESSION_ID}`` filled in."""
        return self.success_url.replace("{CHECKOUT_SESSION_ID}", self.id)


@dataclass(frozen=True)
class PaymentAttempt:
    """The hosted page's payment: the session afterwards and, when the card was declined, why."""

    session: CheckoutView
    declined: str | None = None


def _view(row: CheckoutSession) -> CheckoutView:
    return CheckoutView(
        id=row.id,
        status=row.status,
        payment_status=row.payment_status,
        currency=row.currency,
        amount_total=row.amount_total,
        lines=[{**line, "amount": line["unit_amount"] * line["quantity"]} for line in row.line_items],
        customer_email=row.customer_email,
        success_url=row.success_url,
        cancel_url=row.cancel_url,
        expires_at=row.expires_at,
    )


def _lines(params: CheckoutSessionCreate) -> tuple[str, list[dict[str, Any]]]:
    lines: list[dict[str, Any]] = []
    currencies = set()
    for index, item in enumerate(params.line_items):
        if item.price is not None:
            raise no_such("price", item.price, param=f"line_items[{index}][price]")
        if item.price_data is None:
            raise InvalidRequestError(
                f"Missing required param: line_items[{index}][price_data].",
                code="parameter_missing",
                param=f"line_items[{index}][price_data]",
            )
        currencies.add(item.price_data.currency)
        lines.append(
            {
                "name": item.price_data.product_data.name,
                "description": item.price_data.product_data.description,
                "unit_amount": item.price_data.unit_amount,
                "quantity": item.quantity,
            }
        )
    if len(currencies) > 1:
        raise InvalidRequestError(
            "All line items must use the same currency.", code="parameter_invalid", param="line_items"
        )
    return currencies.pop(), lines


def _expiry(call: Call, expires_at: int | None) -> dt.datetime:
    if expires_at is None:
        return call.now + dt.timedelta(seconds=call.settings.payments.checkout_session_ttl_s)
    moment = dt.datetime.fromtimestamp(expires_at, dt.UTC)
    if not MIN_LIFETIME <= moment - call.now <= MAX_LIFETIME:
        raise InvalidRequestError(
            "The expires_at timestamp must be between 30 minutes and 24 hours from Checkout Session "
            "creation.",
            code="parameter_invalid",
            param="expires_at",
        )
    return moment


async def create_checkout_session(
    session: AsyncSession, call: Call, params: CheckoutSessionCreate
) -> Outcome:
    """Open a session for ``line_items`` (``mode=payment`` only); its ``url`` is the hosted page."""
    if params.mode != "payment":
        raise InvalidRequestError(
            f"Folio's Checkout supports mode=payment only, not {params.mode}.",
            code="parameter_invalid",
            param="mode",
        )
    if params.customer is not None and params.customer_email is not None:
        raise InvalidRequestError(
            "You may only specify one of these parameters: customer, customer_email.",
            code="parameter_invalid",
            param="customer_email",
        )
    currency, lines = _lines(params)
    total = sum(line["unit_amount"] * line["quantity"] for line in lines)
    check_amount(total, currency, param="line_items")
    customer = (
        await get_live_customer(session, call, params.customer, param="customer") if params.customer else None
    )
    intent_data = params.payment_intent_data
    row = CheckoutSession(
        id=new_id("checkout.session", call.tenant_id),
        tenant_id=call.tenant_id,
        created_at=call.now,
        mode=params.mode,
        status="open",
        payment_status="unpaid",
        currency=currency,
        amount_subtotal=total,
        amount_total=total,
        line_items=lines,
        success_url=params.success_url,
        cancel_url=params.cancel_url,
        client_reference_id=params.client_reference_id,
        customer_id=customer.id if customer is not None else None,
        customer_email=params.customer_email or (customer.email if customer is not None else None),
        metadata_=merge_metadata({}, params.metadata),
        payment_intent_data=intent_data.model_dump(exclude_none=True) if intent_data is not None else {},
        expires_at=_expiry(call, params.expires_at),
    )
    session.add(row)
    return Outcome.of(await Renderer(session, call).render(row, params.expand))


async def _expire(session: AsyncSession, call: Call, row: CheckoutSession) -> None:
    """Expire open ``row`` (locked): its unpaid intent is cancelled; event ``checkout.session.expired``."""
    row.status = "expired"
    if row.payment_intent_id is not None:
        intent = await get_locked(
            session, PaymentIntent, row.payment_intent_id, call=call, name="payment_intent"
        )
        if intent.status in CANCELABLE:
            await cancel_intent(session, call, intent, "abandoned")
    await record_event(session, call, "checkout.session.expired", checkout_session_object(row, call))


async def _current(session: AsyncSession, call: Call, session_id: str) -> CheckoutSession:
    """The session, locked, expired first if its time ran out while it was open."""
    row = await get_locked(session, CheckoutSession, session_id, call=call, name="checkout.session")
    if row.status == "open" and call.now >= row.expires_at:
        await _expire(session, call, row)
    return row


async def retrieve_checkout_session(
    session: AsyncSession, call: Call, session_id: str, params: NoParams
) -> Outcome:
    """A checkout session (expired now if its time ran out)."""
    row = await _current(session, call, session_id)
    return Outcome.of(await Renderer(session, call).render(row, params.expand))


async def expire_checkout_session(
    session: AsyncSession, call: Call, session_id: str, params: NoParams
) -> Outcome:
    """Expire an open session so it can no longer be paid."""
    row = await _current(session, call, session_id)
    if row.status != "open":
        raise InvalidRequestError(
            f"This Checkout Session is {row.status}. "
            'Only Checkout Sessions with a status in ["open"] can be expired.',
            param="session",
        )
    await _expire(session, call, row)
    return Outcome.of(await Renderer(session, call).render(row, params.expand))


async def list_checkout_sessions(session: AsyncSession, call: Call, params: CheckoutSessionList) -> Outcome:
    """The shop's sessions, newest first, optionally by customer, payment intent or status."""
    filters: list[Any] = []
    if params.customer is not None:
        filters.append(CheckoutSession.customer_id == params.customer)
    if params.payment_intent is not None:
        filters.append(CheckoutSession.payment_intent_id == params.payment_intent)
    if params.status is not None:
        filters.append(CheckoutSession.status == params.status)
    return Outcome.of(
        await list_page(
            session,
            call,
            CheckoutSession,
            params,
            url="/v1/checkout/sessions",
            name="checkout.session",
            filters=filters,
        )
    )


async def list_line_items(session: AsyncSession, call: Call, session_id: str, params: ListParams) -> Outcome:
    """A session's line items (one page of up to ``limit``; ``starting_after`` a line item id)."""
    row = await get_or_404(session, CheckoutSession, session_id, call=call, name="checkout.session")
    items = line_item_objects(row)
    if params.starting_after is not None:
        ids = [item["id"] for item in items]
        if params.starting_after not in ids:
            raise no_such("line item", params.starting_after, param="starting_after")
        items = items[ids.index(params.starting_after) + 1 :]
    url = f"/v1/checkout/sessions/{row.id}/line_items"
    return Outcome.of(list_object(url, items[: params.limit], has_more=len(items) > params.limit))


async def view_checkout_session(session: AsyncSession, call: Call, session_id: str) -> CheckoutView:
    """The hosted page's view of a session (expired now if its time ran out)."""
    return _view(await _current(session, call, session_id))


async def pay_checkout_session(
    session: AsyncSession, call: Call, session_id: str, *, card: CardDetails, email: str | None
) -> PaymentAttempt:
    """Pay an open session with ``card`` from the hosted page.

    A session no longer open is returned as it is (a second submit of the form finds it
    complete and charges nothing: the session is locked while it is paid). A card Stripe
    would refuse outright (bad number, past expiry) raises ``CardError`` and changes
    nothing; a declined one is a ``PaymentAttempt`` with the decline message.
    """
    row = await _current(session, call, session_id)
    if row.status != "open":
        return PaymentAttempt(_view(row))
    email = email or row.customer_email
    method = card_payment_method(call, card, BillingDetails(email=email))
    session.add(method)
    intent = await find(session, PaymentIntent, row.payment_intent_id)
    if intent is None:
        data = row.payment_intent_data
        intent = await new_payment_intent(
            session,
            call,
            amount=row.amount_total,
            currency=row.currency,
            customer_id=row.customer_id,
            capture_method=data.get("capture_method", "automatic_async"),
            description=data.get("description"),
            metadata=data.get("metadata"),
            receipt_email=data.get("receipt_email") or email,
            checkout_session_id=row.id,
        )
        row.payment_intent_id = intent.id
    outcome = await attempt_payment(session, call, intent, method=method, expand=[])
    if outcome.status != 200:  # noqa: PLR2004 - HTTP OK
        return PaymentAttempt(_view(row), declined=outcome.body["error"]["message"])
    row.status = "complete"
    row.payment_status = "paid" if intent.status == "succeeded" else "unpaid"
    row.customer_email = email
    await record_event(session, call, "checkout.session.completed", checkout_session_object(row, call))
    return PaymentAttempt(_view(row))


async def expire_overdue_sessions(session: AsyncSession, call: Call, *, limit: int = 100) -> int:
    """Expire up to ``limit`` of the shop's open sessions whose ``expires_at`` has passed; how many were."""
    query = (
        select(CheckoutSession)
        .where(
            tenant_filter(CheckoutSession),
            CheckoutSession.status == "open",
            CheckoutSession.expires_at <= call.now,
        )
        .order_by(CheckoutSession.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.scalars(query)).all())
    for row in rows:
        await _expire(session, call, row)
    return len(rows)
