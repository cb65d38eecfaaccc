"""Baseline: the root revision every context's migrations build on.

It creates no table: it marks a database as managed by Folio's migrations
(``alembic_version``), so later revisions have a common ancestor.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0001_baseline"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to create: the baseline only starts the revision history."""


def downgrade() -> None:
    """Nothing to drop."""
