"""The general transactional outbox: events, consumer subscriptions, per-consumer deliveries.

``catalog_changes`` served one consumer (its ``processed_at`` and ``attempts`` were the
search sync's). Its rows move into ``outbox_events`` (topic ``catalog``, same ids, so
the order is kept) and the ``search`` consumer is subscribed to ``catalog``; each row
not yet processed gets a ``search`` delivery with its attempts and last error, set
aside as poisoned when it had already used the old cap of 5 attempts. Processed rows
move too, without a delivery, so the catalogue's history stays in one place. Then
``catalog_changes`` is dropped. The downgrade moves the catalog events back (an event
without a ``search`` delivery counts as processed).

Revision ID: 0011_outbox
Revises: 0010_catalog_curation
Create Date: 2026-12-10
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from folio.core.columns import JsonDocument, UtcDateTime

revision: str = "0011_outbox"
down_revision: str | None = "0010_catalog_curation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BATCH = 5_000
"""Rows moved per statement pair: bounded memory however long the old outbox grew."""

TOPIC = "catalog"
CONSUMER = "search"
OLD_MAX_ATTEMPTS = 5
"""``folio.catalog.outbox.MAX_ATTEMPTS`` before this revision: rows at it were set aside."""

# The catalogue's event types as of this revision (``folio.catalog.outbox.EVENT_TYPES``),
# copied: a migration must not change meaning when the application code does.
EVENT_TYPES = {
    ("work", "upsert"): "work.changed",
    ("work", "delete"): "work.deleted",
    ("listing", "upsert"): "listing.changed",
    ("listing", "delete"): "listing.deleted",
    ("catalog", "reindex"): "catalog.bulk_imported",
}

catalog_changes = sa.table(
    "catalog_changes",
    sa.column("id", AUTO_ID),
    sa.column("entity", sa.String()),
    sa.column("entity_id", sa.Uuid()),
    sa.column("tenant_id", sa.Uuid()),
    sa.column("op", sa.String()),
    sa.column("created_at", UtcDateTime()),
    sa.column("processed_at", UtcDateTime()),
    sa.column("attempts", sa.Integer()),
    sa.column("last_error", sa.Text()),
)
events = sa.table(
    "outbox_events",
    sa.column("id", AUTO_ID),
    sa.column("topic", sa.String()),
    sa.column("key", sa.String()),
    sa.column("type", sa.String()),
    sa.column("schema_version", sa.Integer()),
    sa.column("payload", JsonDocument),
    sa.column("tenant_id", sa.Uuid()),
    sa.column("created_at", UtcDateTime()),
    sa.column("correlation_id", sa.String()),
    sa.column("trace_id", sa.String()),
)
consumers = sa.table(
    "outbox_consumers",
    sa.column("name", sa.String()),
    sa.column("topic", sa.String()),
    sa.column("created_at", UtcDateTime()),
)
deliveries = sa.table(
    "outbox_deliveries",
    sa.column("consumer", sa.String()),
    sa.column("event_id", AUTO_ID),
    sa.column("attempts", sa.Integer()),
    sa.column("last_error", sa.Text()),
    sa.column("next_attempt_at", UtcDateTime()),
    sa.column("poisoned_at", UtcDateTime()),
)


def _create_outbox() -> None:
    op.create_table(
        "outbox_events",
        sa.Column("id", AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(60), nullable=False),
        sa.Column("key", sa.String(200), nullable=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("payload", JsonDocument, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("correlation_id", sa.String(128), nullable=True),
        sa.Column("trace_id", sa.String(32), nullable=True),
    )
    op.create_index("ix_outbox_events_topic_type", "outbox_events", ["topic", "type"])
    op.create_table(
        "outbox_consumers",
        sa.Column("name", sa.String(60), primary_key=True),
        sa.Column("topic", sa.String(60), primary_key=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "outbox_deliveries",
        sa.Column("consumer", sa.String(60), primary_key=True),
        sa.Column(
            "event_id",
            AUTO_ID,
            sa.ForeignKey("outbox_events.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("poisoned_at", UtcDateTime(), nullable=True),
    )
    # The foreign key's own index: pruning events cascades to their deliveries.
    op.create_index("ix_outbox_deliveries_event_id", "outbox_deliveries", ["event_id"])


def _batches(connection: sa.Connection, table: sa.TableClause, *where: Any) -> Any:
    """``table``'s rows matching ``where`` in id order, ``BATCH`` at a time (keyset, no server cursor)."""
    last = None
    while True:
        statement = sa.select(table).where(*where).order_by(table.c.id).limit(BATCH)
        if last is not None:
            statement = statement.where(table.c.id > last)
        rows = connection.execute(statement).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _reset_sequence(connection: sa.Connection, table: str) -> None:
    """Move PostgreSQL's id sequence past the ids copied in (SQLite takes max(id) + 1 itself)."""
    if connection.dialect.name == "postgresql":
        ids = sa.table(table, sa.column("id"))
        following = sa.select(sa.func.coalesce(sa.func.max(ids.c.id), 0) + 1).scalar_subquery()
        sequence = sa.func.pg_get_serial_sequence(table, "id")
        connection.execute(sa.select(sa.func.setval(sequence, following, sa.false())))


def upgrade() -> None:
    """Create the outbox, subscribe ``search`` to ``catalog``, move ``catalog_changes`` in, drop it."""
    _create_outbox()
    connection = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    connection.execute(sa.insert(consumers).values(name=CONSUMER, topic=TOPIC, created_at=now))
    for rows in _batches(connection, catalog_changes):
        connection.execute(
            sa.insert(events),
            [
                {
                    "id": row.id,
                    "topic": TOPIC,
                    "key": _text(row.entity_id),
                    "type": EVENT_TYPES.get((row.entity, row.op), f"{row.entity}.{row.op}"),
                    "schema_version": 1,
                    "payload": {
                        "entity": row.entity,
                        "op": row.op,
                        "entity_id": _text(row.entity_id),
                        "tenant_id": _text(row.tenant_id),
                    },
                    "tenant_id": row.tenant_id,
                    "created_at": row.created_at,
                    "correlation_id": None,
                    "trace_id": None,
                }
                for row in rows
            ],
        )
        pending = [
            {
                "consumer": CONSUMER,
                "event_id": row.id,
                "attempts": row.attempts,
                "last_error": row.last_error,
                "next_attempt_at": None,
                "poisoned_at": now if row.attempts >= OLD_MAX_ATTEMPTS else None,
            }
            for row in rows
            if row.processed_at is None
        ]
        if pending:
            connection.execute(sa.insert(deliveries), pending)
    _reset_sequence(connection, "outbox_events")
    op.drop_index("ix_catalog_changes_pending", table_name="catalog_changes")
    op.drop_table("catalog_changes")


def downgrade() -> None:
    """Recreate ``catalog_changes`` from the catalog events and ``search``'s deliveries; drop the outbox."""
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
    connection = op.get_bind()
    for rows in _batches(connection, events, events.c.topic == TOPIC):
        ids = [row.id for row in rows]
        owed = {
            delivery.event_id: delivery
            for delivery in connection.execute(
                sa.select(deliveries).where(deliveries.c.consumer == CONSUMER, deliveries.c.event_id.in_(ids))
            )
        }
        connection.execute(
            sa.insert(catalog_changes),
            [
                {
                    "id": row.id,
                    "entity": row.payload["entity"],
                    "entity_id": _uuid(row.payload["entity_id"]),
                    "tenant_id": row.tenant_id,
                    "op": row.payload["op"],
                    "created_at": row.created_at,
                    # Acknowledged by search (no delivery left): processed, at the latest
                    # time the old table could know, its creation.
                    "processed_at": None if row.id in owed else row.created_at,
                    # A poisoned delivery keeps at least the old cap, so it stays set aside.
                    "attempts": _old_attempts(owed[row.id]) if row.id in owed else 0,
                    "last_error": owed[row.id].last_error if row.id in owed else None,
                }
                for row in rows
            ],
        )
    _reset_sequence(connection, "catalog_changes")
    op.drop_index("ix_outbox_deliveries_event_id", table_name="outbox_deliveries")
    op.drop_table("outbox_deliveries")
    op.drop_table("outbox_consumers")
    op.drop_index("ix_outbox_events_topic_type", table_name="outbox_events")
    op.drop_table("outbox_events")


def _uuid(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


def _old_attempts(delivery: Any) -> int:
    attempts = int(delivery.attempts)
    return max(attempts, OLD_MAX_ATTEMPTS) if delivery.poisoned_at is not None else attempts
