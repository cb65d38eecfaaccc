"""The payments context's tables: every Stripe-like object a shop owns, under row-level security.

Object ids are strings in Stripe's form (``cus_...``, ``pi_...``): a prefix, then the
owning shop and a random part (``folio.payments.ids``), so a public page can find the
shop of the checkout session or receipt it shows. Amounts are integers in the
currency's minor unit, as Stripe's are. Lists page newest first on ``(created_at, id)``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from folio.core.columns import JsonDocument, UtcDateTime, utcnow
from folio.core.db import Base
from folio.core.tenancy import TenantOwned

__all__ = [
    "Charge",
    "CheckoutSession",
    "Customer",
    "IdempotencyKey",
    "PaymentEvent",
    "PaymentIntent",
    "PaymentMethod",
    "Refund",
    "SecretKey",
    "StripeRow",
    "WebhookEndpoint",
]

ObjectId = String(64)
"""Column type of a Stripe-style object id."""

Email = String(320)


class StripeRow(TenantOwned):
    """What every listable object has: a string id and its creation time (the list order)."""

    id: Mapped[str] = mapped_column(ObjectId, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class SecretKey(TenantOwned, Base):
    """A shop's secret API key (``sk_test_...``): only the SHA-256 of its secret part is kept."""

    __tablename__ = "payments_secret_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64))
    hint: Mapped[str] = mapped_column(String(4))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class Customer(StripeRow, Base):
    """A shop's customer; deleting one keeps the row (Stripe answers a deleted stub)."""

    __tablename__ = "payments_customers"
    __table_args__ = (Index("ix_payments_customers_list", "tenant_id", "created_at", "id"),)

    email: Mapped[str | None] = mapped_column(Email)
    name: Mapped[str | None] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(40))
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JsonDocument, default=dict)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class PaymentMethod(StripeRow, Base):
    """A test card: brand, last four digits, expiry, and its number's outcome (never the number)."""

    __tablename__ = "payments_payment_methods"

    type: Mapped[str] = mapped_column(String(20), default="card")
    brand: Mapped[str] = mapped_column(String(20))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    funding: Mapped[str] = mapped_column(String(10), default="credit")
    outcome: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[str | None] = mapped_column(ObjectId)
    billing_email: Mapped[str | None] = mapped_column(Email)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JsonDocument, default=dict)


class PaymentIntent(StripeRow, Base):
    """One payment's life: created, confirmed with a card, captured, cancelled."""

    __tablename__ = "payments_payment_intents"
    __table_args__ = (Index("ix_payments_payment_intents_list", "tenant_id", "created_at", "id"),)

    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(30))
    capture_method: Mapped[str] = mapped_column(String(20), default="automatic")
    customer_id: Mapped[str | None] = mapped_column(ObjectId, index=True)
    payment_method_id: Mapped[str | None] = mapped_column(ObjectId)
    description: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JsonDocument, default=dict)
    receipt_email: Mapped[str | None] = mapped_column(Email)
    amount_received: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_capturable: Mapped[int] = mapped_column(BigInteger, default=0)
    canceled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    cancellation_reason: Mapped[str | None] = mapped_column(String(40))
    last_payment_error: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    latest_charge_id: Mapped[str | None] = mapped_column(ObjectId)
    client_secret: Mapped[str] = mapped_column(String(128))
    checkout_session_id: Mapped[str | None] = mapped_column(ObjectId)


class Charge(StripeRow, Base):
    """One attempt to take money with a card: succeeded (maybe uncaptured) or failed."""

    __tablename__ = "payments_charges"
    __table_args__ = (Index("ix_payments_charges_list", "tenant_id", "created_at", "id"),)

    payment_intent_id: Mapped[str] = mapped_column(
        ObjectId, ForeignKey("payments_payment_intents.id"), index=True
    )
    customer_id: Mapped[str | None] = mapped_column(ObjectId)
    payment_method_id: Mapped[str] = mapped_column(ObjectId)
    amount: Mapped[int] = mapped_column(BigInteger)
    amount_captured: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    captured: Mapped[bool] = mapped_column(Boolean, default=False)
    failure_code: Mapped[str | None] = mapped_column(String(60))
    failure_message: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    description: Mapped[str | None] = mapped_column(Text)
    receipt_email: Mapped[str | None] = mapped_column(Email)
    receipt_number: Mapped[str | None] = mapped_column(String(40))
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JsonDocument, default=dict)


class Refund(StripeRow, Base):
    """Money given back on a captured charge, in full or in part."""

    __tablename__ = "payments_refunds"
    __table_args__ = (Index("ix_payments_refunds_list", "tenant_id", "created_at", "id"),)

    charge_id: Mapped[str] = mapped_column(ObjectId, ForeignKey("payments_charges.id"), index=True)
    payment_intent_id: Mapped[str] = mapped_column(ObjectId)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JsonDocument, default=dict)


class CheckoutSession(StripeRow, Base):
    """A hosted payment page for a basket of line items; paid through ``/app/pay/<id>``."""

    __tablename__ = "payments_checkout_sessions"
    __table_args__ = (Index("ix_payments_checkout_sessions_list", "tenant_id", "created_at", "id"),)

    mode: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    payment_status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    amount_subtotal: Mapped[int] = mapped_column(BigInteger)
    amount_total: Mapped[int] = mapped_column(BigInteger)
    line_items: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument)
    success_url: Mapped[str] = mapped_column(Text)
    cancel_url: Mapped[str | None] = mapped_column(Text)
    client_reference_id: Mapped[str | None] = mapped_column(String(200))
    customer_id: Mapped[str | None] = mapped_column(ObjectId)
    customer_email: Mapped[str | None] = mapped_column(Email)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JsonDocument, default=dict)
    payment_intent_data: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    payment_intent_id: Mapped[str | None] = mapped_column(ObjectId)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class PaymentEvent(StripeRow, Base):
    """A state change, as Stripe's ``event`` object: the object's snapshot and what changed."""

    __tablename__ = "payments_events"
    __table_args__ = (
        Index("ix_payments_events_list", "tenant_id", "created_at", "id"),
        Index("ix_payments_events_type", "tenant_id", "type"),
    )

    type: Mapped[str] = mapped_column(String(100))
    api_version: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    request_id: Mapped[str | None] = mapped_column(String(128))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    pending_webhooks: Mapped[int] = mapped_column(Integer, default=0)
    simulate: Mapped[str | None] = mapped_column(String(30))


class WebhookEndpoint(StripeRow, Base):
    """Where a shop wants its events POSTed, and the secrets that sign them (two while one rolls)."""

    __tablename__ = "payments_webhook_endpoints"

    url: Mapped[str] = mapped_column(Text)
    enabled_events: Mapped[list[str]] = mapped_column(JsonDocument)
    description: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JsonDocument, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="enabled")
    api_version: Mapped[str | None] = mapped_column(String(40))
    # Kept in clear: signing needs the secret itself, as Stripe's own endpoints do.
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class IdempotencyKey(TenantOwned, Base):
    """One ``Idempotency-Key`` a shop sent: in flight, or done with the response to replay (24 h)."""

    __tablename__ = "payments_idempotency_keys"
    __table_args__ = (Index("ix_payments_idempotency_keys_expiry", "tenant_id", "expires_at"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))
    owner: Mapped[str] = mapped_column(String(32))
    locked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
