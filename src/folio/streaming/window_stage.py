"""The ``windows`` stage: ``OrderFacts`` in, per-shop minute totals out (topic and table), late facts aside.

``WindowStage`` is the handler of the consumer group ``<prefix>windows`` on
``<prefix>orders.facts``; it runs ``folio.streaming.windows.TumblingWindows``. Every
fact moves the event-time clock of its partition; an ``OrderPaid`` fact is one paid
order booking its ``revenue_minor``. After each batch it

1. produces each window emission to ``<prefix>orders.windows`` (``ShopMinuteTotals``
   v1, keyed by shop) and each late fact, as read, to ``<prefix>orders.late`` with
   ``late-reason``, ``late-watermark``, ``late-behind-ms`` and ``late-window-start``
   headers, and waits for the broker;
2. then, in one transaction, upserts the emissions into ``analytics_shop_minute`` (the
   window's full totals, only over a lower revision) and the watermark into
   ``stream_watermarks``.

What failed to go out stays pending and goes with the next batch; the consumer reads
the batch again meanwhile (the windows count each event id once).

**Commit rule.** The stage is a ``CommitPosition``: the consumer commits no partition
past the first record still counted in an open window, so a crash loses no open
window's contribution; the restarted stage reads those records again and rebuilds the
open windows whole. It starts from the stored watermark and the revisions of the rows
not yet final, so records read again for windows already final go to the side output
(a duplicate there, with the same event id) rather than open them again, and a rebuilt
window carries on from its last revision. Emissions may repeat on the topic after a
crash (same event id); the latest revision of a window wins.

One member per group: a shop's orders are spread over the partitions (the key is shop
and order), so a second member would compute partial totals of the same windows.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.columns import utcnow
from folio.core.db import Database
from folio.streaming.consumer import Rejected
from folio.streaming.envelope import OutgoingRecord, StreamRecord, envelope_headers
from folio.streaming.models import AnalyticsShopMinute, StreamWatermark
from folio.streaming.producer import EventProducer
from folio.streaming.settings import StreamingSettings
from folio.streaming.topics import FACTS_FAMILY, WINDOWS_FAMILY, TopicNames
from folio.streaming.windows import LateEvent, PaidOrder, Source, TumblingWindows, WindowKey, WindowResult

__all__ = ["COUNTED_TYPE", "WINDOWS_TYPE", "WINDOWS_VERSION", "WindowStage", "late_record", "window_record"]

COUNTED_TYPE = "OrderPaid"
"""The facts the windows count: one paid order each, booking its total as revenue."""
WINDOWS_TYPE = "ShopMinuteTotals"
WINDOWS_VERSION = 1


def window_record(result: WindowResult, *, topic: str, now: dt.datetime) -> OutgoingRecord:
    """The ``ShopMinuteTotals`` v1 record of one emission, keyed by shop."""
    key = result.key
    value = {
        "tenant_id": str(key.shop),
        "currency": key.currency,
        "window_start": key.start.isoformat(),
        "window_end": result.end.isoformat(),
        "revenue_minor": result.revenue_minor,
        "orders": result.orders,
        "revision": result.revision,
        "update": result.update,
        "final": result.final,
        "watermark": result.watermark.isoformat(),
    }
    event_id = f"window:{key.shop}:{key.start.isoformat()}:{key.currency}:r{result.revision}"
    headers = envelope_headers(
        event_id=event_id,
        family=WINDOWS_FAMILY,
        event_type=WINDOWS_TYPE,
        schema_version=WINDOWS_VERSION,
        tenant_id=key.shop,
        occurred_at=now,
        correlation_id=None,
        trace_id=None,
    )
    return OutgoingRecord(
        topic=topic,
        key=str(key.shop),
        value=json.dumps(value, separators=(",", ":")).encode(),
        headers=headers,
        event_id=event_id,
    )


def late_record(record: StreamRecord, late: LateEvent, *, topic: str) -> OutgoingRecord:
    """The side output of a late fact: the fact as read, with why and how late in ``late-*`` headers."""
    behind_ms = int(late.behind_watermark / dt.timedelta(milliseconds=1))
    headers = [
        *record.headers(),
        ("late-reason", late.reason.encode()),
        ("late-watermark", late.watermark.isoformat().encode()),
        ("late-behind-ms", str(behind_ms).encode()),
        ("late-window-start", late.window_start.isoformat().encode()),
    ]
    return OutgoingRecord(
        topic=topic,
        key=record.key,
        value=json.dumps(record.payload, separators=(",", ":")).encode(),
        headers=headers,
        event_id=record.event_id,
    )


def _paid_order(record: StreamRecord) -> PaidOrder:
    facts = record.payload
    return PaidOrder(
        event_id=record.event_id,
        shop=uuid.UUID(facts["tenant_id"]),
        currency=facts["currency"],
        revenue_minor=int(facts["revenue_minor"]),
        occurred_at=dt.datetime.fromisoformat(facts["occurred_at"]),
        source=(record.topic, record.partition),
        offset=record.offset,
    )


class WindowStage:
    """The stage's handler and commit position (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        producer: EventProducer,
        *,
        settings: StreamingSettings,
        group: str,
        names: TopicNames,
        assigned: Callable[[], set[Source]],
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        """The handler of consumer group ``group``; ``assigned`` is its consumer's current partitions.

        Give it to the consumer as its ``position`` too (``StreamConsumer.run``).
        """
        self.db = db
        self.producer = producer
        self.settings = settings
        self.group = group
        self.names = names
        self.assigned = assigned
        self.clock = clock
        self._windows: TumblingWindows | None = None
        self._results: dict[WindowKey, WindowResult] = {}
        self._late: dict[str, OutgoingRecord] = {}

    async def __call__(self, records: list[StreamRecord]) -> list[Rejected]:
        """Count ``records``, then send and store what the windows emitted (see the module docstring)."""
        windows = self._windows or await self._restore()
        now = self.clock()
        windows.track(self.assigned(), now)
        rejected: list[Rejected] = []
        for record in records:
            if record.family != FACTS_FAMILY:
                rejected.append(Rejected(record, "the windows stage reads OrderFacts only"))
                windows.observe((record.topic, record.partition), record.offset, now)
            elif record.payload["event_type"] != COUNTED_TYPE:
                windows.observe((record.topic, record.partition), record.offset, now, record.occurred_at)
            elif late := windows.add(_paid_order(record), now):
                self._late[record.event_id] = late_record(record, late, topic=self.names.late)
        for result in windows.drain():
            self._results[result.key] = result
        await self._flush(windows.watermark)
        return rejected

    def safe_offsets(self) -> Mapping[Source, int]:
        """Per partition, the first offset still counted in an open window: commits stop there."""
        return self._windows.safe_offsets() if self._windows is not None else {}

    async def _restore(self) -> TumblingWindows:
        async def read(session: AsyncSession) -> tuple[dt.datetime | None, dict[WindowKey, int]]:
            watermark = await session.scalar(
                select(StreamWatermark.watermark).where(StreamWatermark.consumer_group == self.group)
            )
            rows = await session.execute(
                select(
                    AnalyticsShopMinute.tenant_id,
                    AnalyticsShopMinute.currency,
                    AnalyticsShopMinute.window_start,
                    AnalyticsShopMinute.revision,
                ).where(AnalyticsShopMinute.final.is_(False))
            )
            return watermark, {WindowKey(shop, currency, start): rev for shop, currency, start, rev in rows}

        watermark, revisions = await self.db.run(read)  # the primary: the latest batch written
        self._windows = TumblingWindows(
            size=dt.timedelta(seconds=self.settings.window_size_s),
            out_of_orderness=dt.timedelta(seconds=self.settings.window_out_of_orderness_s),
            allowed_lateness=dt.timedelta(seconds=self.settings.window_allowed_lateness_s),
            idle_timeout=dt.timedelta(seconds=self.settings.window_idle_timeout_s),
            watermark=watermark,
            revisions=revisions,
        )
        return self._windows

    async def _flush(self, watermark: dt.datetime | None) -> None:
        # The topics first: after a crash between the two, the stored (older) watermark has
        # the windows emitted again, where the other order would lose their last emission.
        now = self.clock()
        results = list(self._results.values())
        outgoing = [window_record(result, topic=self.names.windows, now=now) for result in results]
        outgoing += self._late.values()
        if outgoing:
            outcomes = await self.producer.send(outgoing)
            failed = next((outcome for outcome in outcomes if outcome is not None), None)
            if failed is not None:
                raise failed
        self._late.clear()
        if results or watermark is not None:
            await self.db.run(lambda session: self._store(session, results, watermark, now))
        self._results.clear()

    async def _store(
        self,
        session: AsyncSession,
        results: list[WindowResult],
        watermark: dt.datetime | None,
        now: dt.datetime,
    ) -> None:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        if results:
            windows = dialect.insert(AnalyticsShopMinute)
            changed = (
                "window_end",
                "revenue_minor",
                "orders",
                "revision",
                "final",
                "watermark",
                "updated_at",
            )
            await session.execute(
                windows.on_conflict_do_update(
                    index_elements=["tenant_id", "window_start", "currency"],
                    set_={name: windows.excluded[name] for name in changed},
                    where=AnalyticsShopMinute.revision < windows.excluded.revision,
                ),
                [_row(result, now) for result in results],
            )
        if watermark is not None:
            marks = dialect.insert(StreamWatermark).values(
                consumer_group=self.group, watermark=watermark, updated_at=now
            )
            await session.execute(
                marks.on_conflict_do_update(
                    index_elements=["consumer_group"],
                    set_={"watermark": marks.excluded.watermark, "updated_at": marks.excluded.updated_at},
                    where=StreamWatermark.watermark < marks.excluded.watermark,
                )
            )


def _row(result: WindowResult, now: dt.datetime) -> dict[str, Any]:
    return {
        "tenant_id": result.key.shop,
        "window_start": result.key.start,
        "currency": result.key.currency,
        "window_end": result.end,
        "revenue_minor": result.revenue_minor,
        "orders": result.orders,
        "revision": result.revision,
        "final": result.final,
        "watermark": result.watermark,
        "updated_at": now,
    }
