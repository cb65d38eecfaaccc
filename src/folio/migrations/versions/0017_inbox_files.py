"""The inbox's ledger: one row per file content the folder-watch inbox has seen.

The primary key is the file's SHA-256 content hash, so a file dropped twice (under
any name, by any of several watchers, before or after a restart) finds its row and
loads once. A watcher claims a file by inserting its row, or by taking over one whose
lease (``claimed_until``) has run out, in one conditional statement; the row then
keeps the outcome: ``loading``, ``loaded`` (with the lake table and row count),
``failed`` (attempts so far, the last error, retried) or ``quarantined``.

Not under row-level security, like ``outbox_events``: a dropped file is the
operator's, and one file may carry rows of several shops.

Revision ID: 0017_inbox_files
Revises: 0016_analytics
Create Date: 2026-12-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from folio.core.columns import UtcDateTime

revision: str = "0017_inbox_files"
down_revision: str | None = "0016_analytics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``inbox_files`` and its status index."""
    op.create_table(
        "inbox_files",
        sa.Column("content_hash", sa.String(64), primary_key=True),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("dataset", sa.String(63), nullable=False),
        sa.Column("table_name", sa.String(63), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("claimed_until", UtcDateTime(), nullable=True),
        sa.Column("first_seen_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("loaded_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('loading', 'loaded', 'failed', 'quarantined')", name="ck_inbox_files_status"
        ),
    )
    # `folio inbox status` counts by status; the operator lists failures newest first.
    op.create_index("ix_inbox_files_status_updated", "inbox_files", ["status", "updated_at"])


def downgrade() -> None:
    """Drop ``inbox_files``."""
    op.drop_index("ix_inbox_files_status_updated", table_name="inbox_files")
    op.drop_table("inbox_files")
