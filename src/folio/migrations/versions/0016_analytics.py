"""Analytics: the event pipeline's database sink, and the Kafka relay's subscriptions.

``analytics_order_events`` holds one row per orders event the sink consumed from Kafka
(``folio.streaming``), enriched by the transform stage: amounts in minor units with
their currency, derived facts (net amount, items, lines). The primary key is the
event's id (``outbox-<outbox event id>``, the same on every copy Kafka delivers), so
the sink inserts with ``ON CONFLICT DO NOTHING`` and a redelivered batch adds nothing.
``source_topic``/``source_partition``/``source_offset`` say where the row was read.

Not under row-level security, on purpose, like ``outbox_events``: the table is the
analyst's, across shops, written by a sink whose batches mix shops; reads filter by
``tenant_id`` (indexed with the event time).

It also subscribes the outbox consumer ``kafka-relay`` (``folio.streaming``'s relay) to
the ``orders`` and ``payments`` topics, so no event published after this revision is
missed by the pipeline even before a relay first runs; other configured topics
(``catalog``) are subscribed when the relay starts. The downgrade unsubscribes it.

Revision ID: 0016_analytics
Revises: 0015_message_inbox
Create Date: 2026-12-20
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from folio.core.columns import UtcDateTime

revision: str = "0016_analytics"
down_revision: str | None = "0015_message_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RELAY = "kafka-relay"
"""``folio.streaming.relay.RELAY_CONSUMER`` as of this revision (copied: a migration keeps its meaning)."""
TOPICS = ("orders", "payments")

consumers = sa.table(
    "outbox_consumers",
    sa.column("name", sa.String()),
    sa.column("topic", sa.String()),
    sa.column("created_at", UtcDateTime()),
)
deliveries = sa.table("outbox_deliveries", sa.column("consumer", sa.String()))


def upgrade() -> None:
    """Create ``analytics_order_events``; subscribe the Kafka relay to ``orders`` and ``payments``."""
    op.create_table(
        "analytics_order_events",
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("order_version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("ingested_at", UtcDateTime(), nullable=False),
        sa.Column("source_topic", sa.String(200), nullable=False),
        sa.Column("source_partition", sa.Integer(), nullable=False),
        sa.Column("source_offset", sa.BigInteger(), nullable=False),
    )
    # The analyst's questions are per shop over a time range.
    op.create_index(
        "ix_analytics_order_events_tenant_time", "analytics_order_events", ["tenant_id", "occurred_at"]
    )
    op.create_index("ix_analytics_order_events_order", "analytics_order_events", ["order_id"])
    now = dt.datetime.now(dt.UTC)
    op.bulk_insert(consumers, [{"name": RELAY, "topic": topic, "created_at": now} for topic in TOPICS])


def downgrade() -> None:
    """Unsubscribe the Kafka relay (its pending deliveries go with it); drop the analytics table."""
    op.execute(sa.delete(deliveries).where(deliveries.c.consumer == RELAY))
    op.execute(sa.delete(consumers).where(consumers.c.name == RELAY))
    op.drop_index("ix_analytics_order_events_order", table_name="analytics_order_events")
    op.drop_index("ix_analytics_order_events_tenant_time", table_name="analytics_order_events")
    op.drop_table("analytics_order_events")
