"""Traces: the outbox row's ``traceparent``, and Folio's own bounded trace store.

- ``outbox_events.traceparent``: the W3C ``traceparent`` of the span that wrote the event,
  so the relay's publish, long after the request, continues the request's trace
  (``trace_id`` alone names the trace but not the span to hang below).
- ``trace_summaries``: one row per kept trace (its root, duration, error, services), what
  the trace search reads; ``trace_spans``: its spans, what the waterfall draws. Deleting a
  summary deletes its spans. Not tenant-scoped: traces are the operators' view of every
  process, like the logs.

Revision ID: 0020_traces
Revises: 0019_orders_due_shops
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from folio.core.columns import UtcDateTime

revision: str = "0020_traces"
down_revision: str | None = "0019_orders_due_shops"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``outbox_events.traceparent``; create ``trace_summaries`` and ``trace_spans``."""
    op.add_column("outbox_events", sa.Column("traceparent", sa.String(55), nullable=True))
    op.create_table(
        "trace_summaries",
        sa.Column("trace_id", sa.String(32), primary_key=True),
        sa.Column("root_service", sa.String(100), nullable=False),
        sa.Column("root_name", sa.String(200), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("error", sa.Boolean(), nullable=False),
        sa.Column("span_count", sa.Integer(), nullable=False),
        sa.Column("services", sa.String(1000), nullable=False),
        sa.Column("kept_because", sa.String(20), nullable=False),
        sa.Column("stored_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_trace_summaries_started_at", "trace_summaries", ["started_at"])
    op.create_index("ix_trace_summaries_stored_at", "trace_summaries", ["stored_at"])
    op.create_table(
        "trace_spans",
        sa.Column(
            "trace_id",
            sa.String(32),
            sa.ForeignKey("trace_summaries.trace_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("span_id", sa.String(16), primary_key=True),
        sa.Column("parent_span_id", sa.String(16), nullable=True),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("error", sa.Boolean(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    """Drop the trace store and ``outbox_events.traceparent``."""
    op.drop_table("trace_spans")
    op.drop_index("ix_trace_summaries_stored_at", table_name="trace_summaries")
    op.drop_index("ix_trace_summaries_started_at", table_name="trace_summaries")
    op.drop_table("trace_summaries")
    op.drop_column("outbox_events", "traceparent")
