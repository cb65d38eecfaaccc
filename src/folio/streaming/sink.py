"""The database sink: ``OrderFacts`` records into ``analytics_order_events``, idempotently.

One transaction per batch inserts every record with ``ON CONFLICT (event_id) DO
NOTHING``, so a batch read again (a crash before the commit of its offsets, a
rebalance, the relay's duplicate) adds nothing: zero duplicated rows. The consumer
commits the offsets only after the transaction committed: zero lost rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.columns import utcnow
from folio.core.db import Database
from folio.streaming.consumer import Rejected
from folio.streaming.envelope import StreamRecord
from folio.streaming.models import AnalyticsOrderEvent
from folio.streaming.topics import FACTS_FAMILY

__all__ = ["AnalyticsSink"]


def _row(record: StreamRecord, now: dt.datetime) -> dict[str, Any]:
    facts = record.payload
    return {
        "event_id": record.event_id,
        "tenant_id": uuid.UUID(facts["tenant_id"]),
        "order_id": uuid.UUID(facts["order_id"]),
        "event_type": facts["event_type"],
        "schema_version": record.schema_version,
        "status": facts["status"],
        "currency": facts["currency"],
        "total_minor": facts["total_minor"],
        "refunded_minor": facts["refunded_minor"],
        "net_minor": facts["net_minor"],
        "line_count": facts["line_count"],
        "item_count": facts["item_count"],
        "order_version": facts["order_version"],
        "occurred_at": dt.datetime.fromisoformat(facts["occurred_at"]),
        "ingested_at": now,
        "source_topic": record.topic,
        "source_partition": record.partition,
        "source_offset": record.offset,
    }


class AnalyticsSink:
    """The stage's handler: one idempotent insert per batch (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def __call__(self, records: list[StreamRecord]) -> list[Rejected]:
        """Insert the facts of ``records`` (those already there are left alone); refuse other families."""
        rejected = [
            Rejected(record, "the sink reads OrderFacts only")
            for record in records
            if record.family != FACTS_FAMILY
        ]
        now = utcnow()
        rows = [_row(record, now) for record in records if record.family == FACTS_FAMILY]
        if not rows:
            return rejected

        async def work(session: AsyncSession) -> None:
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            statement = dialect.insert(AnalyticsOrderEvent).on_conflict_do_nothing(
                index_elements=["event_id"]
            )
            await session.execute(statement, rows)

        await self.db.run(work)
        return rejected
