"""Analytics windows: per-shop minute totals by event time, and the watermark that closed them.

``analytics_shop_minute`` holds the latest emission of each tumbling one-minute window
of the ``windows`` stage (``folio.streaming.window_stage``): a shop's revenue and paid
orders in one currency, keyed ``(tenant_id, window_start, currency)``. The stage
upserts the window's full totals, only over a lower ``revision``, so a replayed
emission changes nothing; ``final`` says no late event can change the row any more.

``stream_watermarks`` keeps, per consumer group, the watermark the stage reached,
written in the same transaction as the windows: after a restart the stage resumes from
it, so records read again for windows already final go to the side output instead of
opening those windows a second time.

Not under row-level security, like ``analytics_order_events``: the analyst's tables,
across shops, written by a stage whose batches mix shops.

Revision ID: 0018_analytics_windows
Revises: 0017_inbox_files
Create Date: 2026-12-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from folio.core.columns import UtcDateTime

revision: str = "0018_analytics_windows"
down_revision: str | None = "0017_inbox_files"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``analytics_shop_minute`` and ``stream_watermarks``."""
    op.create_table(
        "analytics_shop_minute",
        sa.Column("tenant_id", sa.Uuid(), primary_key=True),
        sa.Column("window_start", UtcDateTime(), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("window_end", UtcDateTime(), nullable=False),
        sa.Column("revenue_minor", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("watermark", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    # A restart reads the windows not yet final: few, among a row per shop and minute.
    op.create_index(
        "ix_analytics_shop_minute_open",
        "analytics_shop_minute",
        ["window_start"],
        postgresql_where=sa.text("NOT final"),
        sqlite_where=sa.text("NOT final"),
    )
    op.create_table(
        "stream_watermarks",
        sa.Column("consumer_group", sa.String(200), primary_key=True),
        sa.Column("watermark", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("stream_watermarks")
    op.drop_index("ix_analytics_shop_minute_open", table_name="analytics_shop_minute")
    op.drop_table("analytics_shop_minute")
