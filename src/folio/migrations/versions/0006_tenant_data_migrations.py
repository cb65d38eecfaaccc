"""The ledger of per-tenant data migrations (``folio tenants migrate``).

Revision ID: 0006_tenant_data_migrations
Revises: 0005_tasks
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from folio.core.columns import UtcDateTime
from folio.core.tenancy import disable_tenant_isolation, enable_tenant_isolation

revision: str = "0006_tenant_data_migrations"
down_revision: str | None = "0005_tasks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("tenant_data_migrations",)


def upgrade() -> None:
    """Create the tables; tenant-owned ones get row-level security."""
    op.create_table(
        "tenant_data_migrations",
        sa.Column("tenant_id", sa.Uuid(), primary_key=True),
        sa.Column("migration_id", sa.String(120), primary_key=True),
        sa.Column("applied_at", UtcDateTime(), nullable=False),
    )
    for table in TENANT_TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    """Drop the tables (and their policies)."""
    for table in TENANT_TABLES:
        disable_tenant_isolation(table)
    op.drop_table("tenant_data_migrations")
