"""Locks: the last fencing token each protected resource accepted.

One row per resource name, not tenant-owned: a lock's resource is a global name (an
expirer, a webhook endpoint's dispatcher) and the fence must refuse a stale holder
whichever tenant its write touches.

Revision ID: 0012_lock_fences
Revises: 0011_outbox
Create Date: 2026-12-12
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_lock_fences"
down_revision: str | None = "0011_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "lock_fences",
        sa.Column("resource", sa.Text(), primary_key=True),
        sa.Column("token", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table("lock_fences")
