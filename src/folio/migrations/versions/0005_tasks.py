"""Tasks: a shop's to-do items.

Revision ID: 0005_tasks
Revises: 0004_audit_usage
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from folio.core.columns import JsonDocument, UtcDateTime
from folio.core.tenancy import disable_tenant_isolation, enable_tenant_isolation

revision: str = "0005_tasks"
down_revision: str | None = "0004_audit_usage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("tasks",)


def upgrade() -> None:
    """Create the tables; tenant-owned ones get row-level security."""
    op.create_table(
        "tasks",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("priority", sa.String(20), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("tags", JsonDocument, nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=True, index=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_tasks_tenant_created", "tasks", ["tenant_id", "created_at", "id"])
    op.create_index("ix_tasks_tenant_status", "tasks", ["tenant_id", "status"])
    for table in TENANT_TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    """Drop the tables (and their policies)."""
    for table in TENANT_TABLES:
        disable_tenant_isolation(table)
    op.drop_table("tasks")
