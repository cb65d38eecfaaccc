"""Rows as Stripe's JSON objects: Stripe's fields, ``object`` naming the type, ``livemode: false``.

Fields Folio has no counterpart for (addresses, transfers, tax) are present with
Stripe's empty values, so clients that read them find what Stripe's test mode would
give. ``Renderer`` also expands related objects (``expand[]=latest_charge``, dotted
paths such as ``payment_intent.latest_charge``, ``data.customer`` in lists) as Stripe
does; asking to expand anything else is Stripe's ``This property cannot be expanded``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from folio.payments.calls import Call, find, timestamp
from folio.payments.errors import InvalidRequestError
from folio.payments.ids import PREFIXES, b62encode
from folio.payments.models import (
    Charge,
    CheckoutSession,
    Customer,
    PaymentEvent,
    PaymentIntent,
    PaymentMethod,
    Refund,
    StripeRow,
    WebhookEndpoint,
)
from folio.payments.receipts import receipt_url

__all__ = [
    "Renderer",
    "checkout_url",
    "customer_object",
    "deleted_object",
    "event_object",
    "line_item_objects",
    "list_object",
    "payment_intent_object",
    "payment_method_object",
    "refund_object",
    "webhook_endpoint_object",
]

Json = dict[str, Any]


def deleted_object(object_name: str, object_id: str) -> Json:
    """What Stripe answers for a deleted object: its id, type and ``deleted: true``."""
    return {"id": object_id, "object": object_name, "deleted": True}


def list_object(url: str, data: Sequence[Json], *, has_more: bool) -> Json:
    """Stripe's list: ``data``, ``has_more`` and the ``url`` its next page is fetched from."""
    return {"object": "list", "data": list(data), "has_more": has_more, "url": url}


def customer_object(row: Customer) -> Json:
    """A customer; a deleted one as Stripe's deleted stub."""
    if row.deleted_at is not None:
        return deleted_object("customer", row.id)
    return {
        "id": row.id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": timestamp(row.created_at),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": row.description,
        "discount": None,
        "email": row.email,
        "invoice_prefix": None,
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": row.metadata_,
        "name": row.name,
        "phone": row.phone,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def _card(row: PaymentMethod) -> Json:
    return {
        "brand": row.brand,
        "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
        "country": "US",
        "exp_month": row.exp_month,
        "exp_year": row.exp_year,
        "fingerprint": row.id[-16:],
        "funding": row.funding,
        "last4": row.last4,
        "networks": {"available": [row.brand], "preferred": None},
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
    }


def payment_method_object(row: PaymentMethod) -> Json:
    """A card payment method: brand, last four digits, expiry (never the number)."""
    return {
        "id": row.id,
        "object": "payment_method",
        "billing_details": {"address": None, "email": row.billing_email, "name": None, "phone": None},
        "card": _card(row),
        "created": timestamp(row.created_at),
        "customer": row.customer_id,
        "livemode": False,
        "metadata": row.metadata_,
        "type": row.type,
    }


def payment_intent_object(row: PaymentIntent) -> Json:
    """A payment intent, its status and amounts, and the error of its last failed attempt."""
    return {
        "id": row.id,
        "object": "payment_intent",
        "amount": row.amount,
        "amount_capturable": row.amount_capturable,
        "amount_details": {"tip": {}},
        "amount_received": row.amount_received,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": timestamp(row.canceled_at),
        "cancellation_reason": row.cancellation_reason,
        "capture_method": row.capture_method,
        "client_secret": row.client_secret,
        "confirmation_method": "automatic",
        "created": timestamp(row.created_at),
        "currency": row.currency,
        "customer": row.customer_id,
        "description": row.description,
        "last_payment_error": row.last_payment_error,
        "latest_charge": row.latest_charge_id,
        "livemode": False,
        "metadata": row.metadata_,
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": row.payment_method_id,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": row.receipt_email,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": row.status,
        "transfer_data": None,
        "transfer_group": None,
    }


def charge_object(row: Charge, method: PaymentMethod | None, *, receipt: str | None) -> Json:
    """A charge, with its card's details and the link to its receipt (once it succeeded)."""
    return {
        "id": row.id,
        "object": "charge",
        "amount": row.amount,
        "amount_captured": row.amount_captured,
        "amount_refunded": row.amount_refunded,
        "application": None,
        "application_fee": None,
        "balance_transaction": None,
        "billing_details": {
            "address": None,
            "email": method.billing_email if method is not None else None,
            "name": None,
            "phone": None,
        },
        "calculated_statement_descriptor": "FOLIO",
        "captured": row.captured,
        "created": timestamp(row.created_at),
        "currency": row.currency,
        "customer": row.customer_id,
        "description": row.description,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": row.failure_code,
        "failure_message": row.failure_message,
        "fraud_details": {},
        "livemode": False,
        "metadata": row.metadata_,
        "on_behalf_of": None,
        "outcome": row.outcome,
        "paid": row.status == "succeeded",
        "payment_intent": row.payment_intent_id,
        "payment_method": row.payment_method_id,
        "payment_method_details": (
            {"card": _card(method), "type": "card"} if method is not None else {"type": "card"}
        ),
        "receipt_email": row.receipt_email,
        "receipt_number": row.receipt_number,
        "receipt_url": receipt,
        "refunded": row.captured and row.amount_refunded >= row.amount_captured > 0,
        "review": None,
        "shipping": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": row.status,
        "transfer_data": None,
        "transfer_group": None,
    }


def refund_object(row: Refund) -> Json:
    """A refund of (part of) a charge."""
    return {
        "id": row.id,
        "object": "refund",
        "amount": row.amount,
        "balance_transaction": None,
        "charge": row.charge_id,
        "created": timestamp(row.created_at),
        "currency": row.currency,
        "destination_details": {"card": {"type": "refund"}, "type": "card"},
        "metadata": row.metadata_,
        "payment_intent": row.payment_intent_id,
        "reason": row.reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": row.status,
        "transfer_reversal": None,
    }


def checkout_url(call: Call, session_id: str) -> str:
    """The hosted page that pays checkout session ``session_id``."""
    return f"{call.base_url.rstrip('/')}/app/pay/{session_id}"


def checkout_session_object(row: CheckoutSession, call: Call) -> Json:
    """A checkout session; its ``url`` is the hosted page while the session is open."""
    details = {"email": row.customer_email, "name": None, "phone": None, "address": None}
    return {
        "id": row.id,
        "object": "checkout.session",
        "amount_subtotal": row.amount_subtotal,
        "amount_total": row.amount_total,
        "cancel_url": row.cancel_url,
        "client_reference_id": row.client_reference_id,
        "created": timestamp(row.created_at),
        "currency": row.currency,
        "customer": row.customer_id,
        "customer_details": details if row.status == "complete" else None,
        "customer_email": row.customer_email,
        "expires_at": timestamp(row.expires_at),
        "livemode": False,
        "metadata": row.metadata_,
        "mode": row.mode,
        "payment_intent": row.payment_intent_id,
        "payment_method_types": ["card"],
        "payment_status": row.payment_status,
        "status": row.status,
        "success_url": row.success_url,
        "ui_mode": "hosted",
        "url": checkout_url(call, row.id) if row.status == "open" else None,
    }


def line_item_objects(row: CheckoutSession) -> list[Json]:
    """The session's line items as Stripe's ``item`` objects, each with an inline ``price``."""
    items = []
    for index, line in enumerate(row.line_items):
        suffix = f"{row.id.rpartition('_')[2]}{b62encode(index.to_bytes(2, 'big'), 3)}"
        total = line["unit_amount"] * line["quantity"]
        items.append(
            {
                "id": f"{PREFIXES['line_item']}_{suffix}",
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": total,
                "amount_tax": 0,
                "amount_total": total,
                "currency": row.currency,
                "description": line["name"],
                "price": {
                    "id": f"{PREFIXES['price']}_{suffix}",
                    "object": "price",
                    "active": False,
                    "billing_scheme": "per_unit",
                    "created": timestamp(row.created_at),
                    "currency": row.currency,
                    "livemode": False,
                    "metadata": {},
                    "product": f"{PREFIXES['product']}_{suffix}",
                    "type": "one_time",
                    "unit_amount": line["unit_amount"],
                },
                "quantity": line["quantity"],
            }
        )
    return items


def event_object(row: PaymentEvent) -> Json:
    """An event: the object's snapshot at the change (``data.object``) and what changed."""
    return {
        "id": row.id,
        "object": "event",
        "api_version": row.api_version,
        "created": timestamp(row.created_at),
        "data": row.data,
        "livemode": False,
        "pending_webhooks": row.pending_webhooks,
        "request": {"id": row.request_id, "idempotency_key": row.idempotency_key},
        "type": row.type,
    }


def webhook_endpoint_object(row: WebhookEndpoint, *, with_secret: bool = False) -> Json:
    """A webhook endpoint; its ``secret`` only when just created or rolled, as at Stripe."""
    body: Json = {
        "id": row.id,
        "object": "webhook_endpoint",
        "api_version": row.api_version,
        "application": None,
        "created": timestamp(row.created_at),
        "description": row.description,
        "enabled_events": row.enabled_events,
        "livemode": False,
        "metadata": row.metadata_,
        "status": row.status,
        "url": row.url,
    }
    if with_secret:
        body["secret"] = row.secret
    return body


EXPANDABLE: dict[type[StripeRow], dict[str, tuple[type[StripeRow], str]]] = {
    PaymentIntent: {
        "customer": (Customer, "customer_id"),
        "latest_charge": (Charge, "latest_charge_id"),
        "payment_method": (PaymentMethod, "payment_method_id"),
    },
    Charge: {
        "customer": (Customer, "customer_id"),
        "payment_intent": (PaymentIntent, "payment_intent_id"),
        "payment_method": (PaymentMethod, "payment_method_id"),
    },
    Refund: {"charge": (Charge, "charge_id"), "payment_intent": (PaymentIntent, "payment_intent_id")},
    CheckoutSession: {
        "customer": (Customer, "customer_id"),
        "payment_intent": (PaymentIntent, "payment_intent_id"),
    },
}
"""Which fields of which objects expand: the related model and the column holding its id."""


class Renderer:
    """Renders rows as Stripe JSON inside one unit of work, loading what charges and expansions need."""

    def __init__(self, session: AsyncSession, call: Call) -> None:
        self.session = session
        self.call = call

    async def render(self, row: StripeRow, expand: Sequence[str] = ()) -> Json:
        """``row`` as its Stripe object, with the ``expand`` paths replaced by the objects they name.

        Raises ``InvalidRequestError`` (param ``expand``) for a path that does not expand.
        """
        body = await self._plain(row)
        wanted: dict[str, list[str]] = {}
        for path in expand:
            head, _, rest = path.partition(".")
            wanted.setdefault(head, [])
            if rest:
                wanted[head].append(rest)
        for head, deeper in wanted.items():
            if isinstance(row, CheckoutSession) and head == "line_items":
                items = line_item_objects(row)
                body[head] = list_object(f"/v1/checkout/sessions/{row.id}/line_items", items, has_more=False)
                continue
            target = EXPANDABLE.get(type(row), {}).get(head)
            if target is None:
                raise InvalidRequestError(
                    f"This property cannot be expanded ({head}).", code="parameter_invalid", param="expand"
                )
            model, column = target
            related = await find(self.session, model, getattr(row, column))
            body[head] = None if related is None else await self.render(related, deeper)
        return body

    async def render_list(
        self, url: str, rows: Sequence[StripeRow], expand: Sequence[str], *, has_more: bool
    ) -> Json:
        """A list object of ``rows``; ``expand`` paths start with ``data.`` as at Stripe."""
        per_item = []
        for path in expand:
            head, _, rest = path.partition(".")
            if head != "data" or not rest:
                raise InvalidRequestError(
                    f"This property cannot be expanded ({path}).", code="parameter_invalid", param="expand"
                )
            per_item.append(rest)
        return list_object(url, [await self.render(row, per_item) for row in rows], has_more=has_more)

    async def _plain(self, row: StripeRow) -> Json:
        if isinstance(row, Charge):
            method = await find(self.session, PaymentMethod, row.payment_method_id)
            receipt = receipt_url(self.call, row.id) if row.status == "succeeded" else None
            return charge_object(row, method, receipt=receipt)
        if isinstance(row, CheckoutSession):
            return checkout_session_object(row, self.call)
        plain: Callable[[Any], Json] = _PLAIN[type(row)]
        return plain(row)


_PLAIN: dict[type[StripeRow], Callable[[Any], Json]] = {
    Customer: customer_object,
    PaymentIntent: payment_intent_object,
    Refund: refund_object,
    PaymentMethod: payment_method_object,
    PaymentEvent: event_object,
    WebhookEndpoint: webhook_endpoint_object,
}
"""The objects that render from their row alone."""
