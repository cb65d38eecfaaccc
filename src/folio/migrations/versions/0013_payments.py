"""Payments: a Stripe-compatible test mode (keys, customers, intents, charges, refunds, checkout, webhooks).

Every table is tenant-owned and under row-level security. Object ids are Stripe-style
strings (``pi_...``); amounts are integers in the currency's minor unit. The
idempotency keys table keeps each key's fingerprint and, once done, the response to
replay for 24 hours.

Revision ID: 0013_payments
Revises: 0012_lock_fences
Create Date: 2026-12-14
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from folio.core.columns import JsonDocument, UtcDateTime
from folio.core.tenancy import disable_tenant_isolation, enable_tenant_isolation

revision: str = "0013_payments"
down_revision: str | None = "0012_lock_fences"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OBJECT_ID = sa.String(64)
EMAIL = sa.String(320)

# Listable objects get the (tenant, created, id) index their newest-first pages walk.
LISTED = (
    "payments_customers",
    "payments_payment_intents",
    "payments_charges",
    "payments_refunds",
    "payments_checkout_sessions",
    "payments_events",
)
TENANT_TABLES = (
    "payments_secret_keys",
    "payments_customers",
    "payments_payment_methods",
    "payments_payment_intents",
    "payments_charges",
    "payments_refunds",
    "payments_checkout_sessions",
    "payments_events",
    "payments_webhook_endpoints",
    "payments_idempotency_keys",
)


def _object(table: str, *columns: sa.Column[object]) -> None:
    """Create a Stripe-object table: string id, tenant, creation time, then ``columns``."""
    op.create_table(
        table,
        sa.Column("id", OBJECT_ID, primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        *columns,
    )


def _metadata() -> sa.Column[object]:
    return sa.Column("metadata", JsonDocument, nullable=False)


def upgrade() -> None:
    """Create the tables; each gets row-level security."""
    op.create_table(
        "payments_secret_keys",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("hint", sa.String(4), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
    )
    _object(
        "payments_customers",
        sa.Column("email", EMAIL, nullable=True),
        sa.Column("name", sa.String(256), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        _metadata(),
        sa.Column("deleted_at", UtcDateTime(), nullable=True),
    )
    _object(
        "payments_payment_methods",
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("brand", sa.String(20), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=False),
        sa.Column("exp_year", sa.Integer(), nullable=False),
        sa.Column("funding", sa.String(10), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("customer_id", OBJECT_ID, nullable=True),
        sa.Column("billing_email", EMAIL, nullable=True),
        _metadata(),
    )
    _object(
        "payments_payment_intents",
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("capture_method", sa.String(20), nullable=False),
        sa.Column("customer_id", OBJECT_ID, nullable=True, index=True),
        sa.Column("payment_method_id", OBJECT_ID, nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        _metadata(),
        sa.Column("receipt_email", EMAIL, nullable=True),
        sa.Column("amount_received", sa.BigInteger(), nullable=False),
        sa.Column("amount_capturable", sa.BigInteger(), nullable=False),
        sa.Column("canceled_at", UtcDateTime(), nullable=True),
        sa.Column("cancellation_reason", sa.String(40), nullable=True),
        sa.Column("last_payment_error", JsonDocument, nullable=True),
        sa.Column("latest_charge_id", OBJECT_ID, nullable=True),
        sa.Column("client_secret", sa.String(128), nullable=False),
        sa.Column("checkout_session_id", OBJECT_ID, nullable=True),
    )
    _object(
        "payments_charges",
        sa.Column(
            "payment_intent_id",
            OBJECT_ID,
            sa.ForeignKey("payments_payment_intents.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("customer_id", OBJECT_ID, nullable=True),
        sa.Column("payment_method_id", OBJECT_ID, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("amount_captured", sa.BigInteger(), nullable=False),
        sa.Column("amount_refunded", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("captured", sa.Boolean(), nullable=False),
        sa.Column("failure_code", sa.String(60), nullable=True),
        sa.Column("failure_message", sa.Text(), nullable=True),
        sa.Column("outcome", JsonDocument, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("receipt_email", EMAIL, nullable=True),
        sa.Column("receipt_number", sa.String(40), nullable=True),
        _metadata(),
    )
    _object(
        "payments_refunds",
        sa.Column("charge_id", OBJECT_ID, sa.ForeignKey("payments_charges.id"), nullable=False, index=True),
        sa.Column("payment_intent_id", OBJECT_ID, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(40), nullable=True),
        _metadata(),
    )
    _object(
        "payments_checkout_sessions",
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("payment_status", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_subtotal", sa.BigInteger(), nullable=False),
        sa.Column("amount_total", sa.BigInteger(), nullable=False),
        sa.Column("line_items", JsonDocument, nullable=False),
        sa.Column("success_url", sa.Text(), nullable=False),
        sa.Column("cancel_url", sa.Text(), nullable=True),
        sa.Column("client_reference_id", sa.String(200), nullable=True),
        sa.Column("customer_id", OBJECT_ID, nullable=True),
        sa.Column("customer_email", EMAIL, nullable=True),
        _metadata(),
        sa.Column("payment_intent_data", JsonDocument, nullable=False),
        sa.Column("payment_intent_id", OBJECT_ID, nullable=True),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
    )
    _object(
        "payments_events",
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("api_version", sa.String(40), nullable=False),
        sa.Column("data", JsonDocument, nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("pending_webhooks", sa.Integer(), nullable=False),
        sa.Column("simulate", sa.String(30), nullable=True),
    )
    op.create_index("ix_payments_events_type", "payments_events", ["tenant_id", "type"])
    _object(
        "payments_webhook_endpoints",
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("enabled_events", JsonDocument, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        _metadata(),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("api_version", sa.String(40), nullable=True),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("previous_secret", sa.String(100), nullable=True),
        sa.Column("previous_secret_expires_at", UtcDateTime(), nullable=True),
    )
    op.create_table(
        "payments_idempotency_keys",
        sa.Column("tenant_id", sa.Uuid(), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("owner", sa.String(32), nullable=False),
        sa.Column("locked_at", UtcDateTime(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
    )
    op.create_index(
        "ix_payments_idempotency_keys_expiry", "payments_idempotency_keys", ["tenant_id", "expires_at"]
    )
    for table in LISTED:
        op.create_index(f"ix_{table}_list", table, ["tenant_id", "created_at", "id"])
    for table in TENANT_TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    """Drop the tables (and their policies), dependants first."""
    for table in TENANT_TABLES:
        disable_tenant_isolation(table)
    for table in reversed(TENANT_TABLES):
        op.drop_table(table)
