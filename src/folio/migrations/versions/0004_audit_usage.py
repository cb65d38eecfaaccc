"""Audit trail and usage metering: append-only events, daily meters, quota overrides.

Revision ID: 0004_audit_usage
Revises: 0003_mail
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from folio.core.columns import JsonDocument, UtcDateTime
from folio.core.tenancy import disable_tenant_isolation, enable_tenant_isolation

revision: str = "0004_audit_usage"
down_revision: str | None = "0003_mail"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("audit_events", "usage_daily", "usage_quota_overrides")


def upgrade() -> None:
    """Create the tables; tenant-owned ones get row-level security."""
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_kind", sa.String(20), nullable=False),
        sa.Column("action", sa.String(80), nullable=False, index=True),
        sa.Column("entity_type", sa.String(60), nullable=False),
        sa.Column("entity_id", sa.String(80), nullable=True),
        sa.Column("before", JsonDocument, nullable=True),
        sa.Column("after", JsonDocument, nullable=True),
        sa.Column("correlation_id", sa.String(128), nullable=True),
    )
    op.create_index("ix_audit_events_tenant_time", "audit_events", ["tenant_id", "occurred_at"])
    op.create_table(
        "usage_daily",
        sa.Column("tenant_id", sa.Uuid(), primary_key=True),
        sa.Column("meter", sa.String(40), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "usage_quota_overrides",
        sa.Column("tenant_id", sa.Uuid(), primary_key=True),
        sa.Column("meter", sa.String(40), primary_key=True),
        sa.Column("quota_limit", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    for table in TENANT_TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    """Drop the tables (and their policies)."""
    for table in TENANT_TABLES:
        disable_tenant_isolation(table)
    op.drop_table("usage_quota_overrides")
    op.drop_table("usage_daily")
    op.drop_table("audit_events")
