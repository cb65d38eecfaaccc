"""The message inbox: ids of broker messages a consumer has processed.

A worker writes ``(consumer, message_id)`` in the transaction that applies the
message's effect, so a redelivered message finds its row and changes nothing (the
"exactly-once illusion" over RabbitMQ's at-least-once delivery). Not tenant-scoped: a
message id is unique across tenants, and the worker checks it before it knows a tenant.

It also subscribes the outbox consumer ``broker-relay`` (``folio.messaging``'s relay,
which publishes outbox events to RabbitMQ) to the ``payments`` and ``orders`` topics,
so every event published after this revision reaches the broker, even one published
before a worker first ran. The downgrade unsubscribes it and drops its deliveries.

Revision ID: 0015_message_inbox
Revises: 0014_orders
Create Date: 2026-12-12
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from folio.core.columns import UtcDateTime

revision: str = "0015_message_inbox"
down_revision: str | None = "0014_orders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RELAY = "broker-relay"
"""``folio.messaging.relay.RELAY_CONSUMER`` as of this revision (copied: a migration keeps its meaning)."""
TOPICS = ("payments", "orders")

consumers = sa.table(
    "outbox_consumers",
    sa.column("name", sa.String()),
    sa.column("topic", sa.String()),
    sa.column("created_at", UtcDateTime()),
)
deliveries = sa.table("outbox_deliveries", sa.column("consumer", sa.String()))


def upgrade() -> None:
    """Create ``message_inbox`` with its pruning index; subscribe the relay to ``payments`` and ``orders``."""
    op.create_table(
        "message_inbox",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("message_id", sa.String(200), primary_key=True),
        sa.Column("processed_at", UtcDateTime(), nullable=False),
    )
    # Pruning deletes by age; without it a prune scans the whole inbox.
    op.create_index("ix_message_inbox_processed_at", "message_inbox", ["processed_at"])
    now = dt.datetime.now(dt.UTC)
    op.bulk_insert(consumers, [{"name": RELAY, "topic": topic, "created_at": now} for topic in TOPICS])


def downgrade() -> None:
    """Unsubscribe the relay (its pending deliveries go with it); drop ``message_inbox``."""
    op.execute(sa.delete(deliveries).where(deliveries.c.consumer == RELAY))
    op.execute(sa.delete(consumers).where(consumers.c.name == RELAY))
    op.drop_index("ix_message_inbox_processed_at", table_name="message_inbox")
    op.drop_table("message_inbox")
