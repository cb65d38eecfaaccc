"""Search: each shop's synonym sets.

Revision ID: 0009_search
Revises: 0008_catalog
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from folio.core.columns import JsonDocument, UtcDateTime
from folio.core.tenancy import disable_tenant_isolation, enable_tenant_isolation

revision: str = "0009_search"
down_revision: str | None = "0008_catalog"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("search_synonyms",)


def upgrade() -> None:
    """Create the table under row-level security."""
    op.create_table(
        "search_synonyms",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("synonyms", JsonDocument, nullable=False),
        sa.Column("root", sa.String(200), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_search_synonyms_name"),
    )
    for table in TENANT_TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    """Drop the table (and its policy)."""
    for table in TENANT_TABLES:
        disable_tenant_isolation(table)
    op.drop_table("search_synonyms")
