"""Catalog: works shared by all shops, listings per shop, the search outbox, import runs.

Revision ID: 0008_catalog
Revises: 0007_audit_append_only
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from folio.core.columns import JsonDocument, UtcDateTime
from folio.core.tenancy import disable_tenant_isolation, enable_tenant_isolation

revision: str = "0008_catalog"
down_revision: str | None = "0007_audit_append_only"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("listings",)
AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    """Create the tables; listings get row-level security."""
    op.create_table(
        "works",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("isbn13", sa.String(13), nullable=True, unique=True),
        sa.Column("isbn10", sa.String(10), nullable=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("authors", JsonDocument, nullable=False),
        sa.Column("publisher", sa.String(300), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("subjects", JsonDocument, nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("cover_url", sa.String(1000), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("source_key", sa.String(200), nullable=False),
        sa.Column("preview_key", sa.String(300), nullable=True),
        *_timestamps(),
        sa.UniqueConstraint("source", "source_key", name="uq_works_source_key"),
    )
    op.create_index("ix_works_title", "works", ["title"])
    op.create_table(
        "listings",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("work_id", sa.Uuid(), sa.ForeignKey("works.id"), nullable=False, index=True),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("condition", sa.String(20), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("tenant_id", "work_id", "condition", name="uq_listings_work_condition"),
    )
    op.create_index("ix_listings_tenant_created", "listings", ["tenant_id", "created_at", "id"])
    op.create_table(
        "catalog_changes",
        sa.Column("id", AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(20), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("op", sa.String(20), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("processed_at", UtcDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_catalog_changes_pending", "catalog_changes", ["processed_at", "id"])
    op.create_table(
        "catalog_import_runs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("counts", JsonDocument, nullable=False),
        sa.Column("reasons", JsonDocument, nullable=False),
    )
    op.create_table(
        "catalog_quarantine",
        sa.Column("id", AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Uuid(), sa.ForeignKey("catalog_import_runs.id"), nullable=False, index=True),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(60), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
    )
    for table in TENANT_TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    """Drop the tables (and their policies)."""
    for table in TENANT_TABLES:
        disable_tenant_isolation(table)
    for table in ("catalog_quarantine", "catalog_import_runs", "catalog_changes", "listings", "works"):
        op.drop_table(table)
