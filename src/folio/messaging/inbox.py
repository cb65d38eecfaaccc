"""The inbox: which messages each consumer has processed, written with the effect they had.

RabbitMQ delivers at least once: a worker killed after its handler committed but
before its ack, a relay that published twice, a retried publish whose first confirm
was lost, all hand a consumer a message it has applied already. The inbox turns that
into exactly-once *effects* ("the exactly-once illusion"): the worker inserts
``(consumer, message_id)`` in the same transaction as the handler's writes, so either
both commit or neither does. A redelivered message finds its row and changes nothing.

Two workers racing on copies of one message: on PostgreSQL the second insert waits
for the first transaction's row (the primary key), then finds it taken once the first
commits (or takes it, if the first rolled back); on SQLite writers are serialised. So
one of them applies it, whatever the timing.

Rows are pruned after ``messaging.inbox_retention_days``: a copy redelivered later
than that would apply again, so the retention outlasts any retry ladder and replay.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from folio.core.columns import UtcDateTime, utcnow
from folio.core.db import Base, Database

__all__ = ["InboxEntry", "prune_inbox", "record_message", "was_processed"]


class InboxEntry(Base):
    """One message one consumer has processed (no row-level security: message ids span shops)."""

    __tablename__ = "message_inbox"
    __table_args__ = (Index("ix_message_inbox_processed_at", "processed_at"),)

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    processed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


_INBOX = InboxEntry.__table__


async def record_message(session: AsyncSession, *, consumer: str, message_id: str) -> bool:
    """Mark ``message_id`` processed by ``consumer`` in the caller's transaction; False when it already was.

    Call it first in the unit that applies the message, and apply nothing when it
    returns False: the row commits with the effect, or not at all.
    """
    values = {"consumer": consumer, "message_id": message_id, "processed_at": utcnow()}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    # The table, not the ORM entity: a Core insert skips the ORM's bulk-insert preparation.
    statement = dialect.insert(_INBOX).values(values).on_conflict_do_nothing()
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def was_processed(db: Database, *, consumer: str, message_id: str) -> bool:
    """Whether ``consumer`` recorded ``message_id`` (read on the primary: a replica may lag)."""

    async def work(session: AsyncSession) -> bool:
        return await session.get(InboxEntry, (consumer, message_id)) is not None

    return await db.run(work)


async def prune_inbox(db: Database, *, older_than: dt.datetime) -> int:
    """Forget the messages processed before ``older_than``; how many rows went."""

    async def work(session: AsyncSession) -> int:
        result = await session.execute(delete(InboxEntry).where(InboxEntry.processed_at < older_than))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    return await db.run(work)
