"""Tumbling event-time windows with a watermark: per-shop revenue and paid orders per minute.

A pure operator (no I/O, no clock: the caller passes processing time as ``now``);
``folio.streaming.window_stage`` runs it on the ``orders.facts`` topic.

- **Windows.** Each ``PaidOrder`` (an ``OrderPaid`` fact: one order, its total booked
  as revenue) falls in the window ``[start, start + size)`` of its event time, keyed by
  shop and currency (amounts in different currencies never add up).
- **Watermark.** Each source partition's clock is the largest event time it delivered;
  the watermark is the smallest clock over the partitions this consumer owns, less the
  bounded out-of-orderness, and never goes back. A partition tracked but silent holds
  it back until it has been quiet for ``idle_timeout`` of processing time; from then
  on it is left out of the minimum until it delivers again. It advances per record,
  so the outcome does not depend on how records are batched.
- **Firing.** A window fires (revision 1) once the watermark reaches its end. Until the
  watermark reaches ``end + allowed_lateness`` a late event still joins it and the
  window is emitted again with the corrected totals (revision + 1, an update); then a
  last emission marks it final and its state is dropped. With no allowed lateness the
  first emission is the final one.
- **Late events.** An event whose window is closed (``end + allowed_lateness`` at or
  behind the watermark) changes nothing: ``add`` returns it as a ``LateEvent`` (the
  side output) with how far behind the watermark it was.
- **Duplicates.** A window remembers the event ids it counted for as long as it is
  open, so a redelivered event counts once; memory is bounded by the events of the open
  windows. A copy arriving after its window closed is a late event, never a change.
- **Safe offsets.** ``safe_offsets`` is, per partition, the offset from which a restart
  must read again to rebuild every open window: the first offset still counted in an
  open window, else the next offset. Committing further would lose open windows'
  contributions on a crash.

Emissions are collected per call of ``drain``: a window that changed several times
since the last drain is emitted once, with its latest totals.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["LateEvent", "PaidOrder", "Source", "TumblingWindows", "WindowKey", "WindowResult"]

Source = tuple[str, int]
"""A source partition: ``(topic, partition)``."""


@dataclass(frozen=True)
class PaidOrder:
    """One paid order as the windows see it: what it books, when, and where it was read."""

    event_id: str
    shop: uuid.UUID
    currency: str
    revenue_minor: int
    occurred_at: dt.datetime
    source: Source
    offset: int


@dataclass(frozen=True, order=True)
class WindowKey:
    """Which window: the shop, the currency, the window's start."""

    shop: uuid.UUID
    currency: str
    start: dt.datetime


@dataclass(frozen=True)
class WindowResult:
    """One emission of a window: its full totals so far, its revision, whether it is final."""

    key: WindowKey
    end: dt.datetime
    revenue_minor: int
    orders: int
    revision: int
    final: bool
    watermark: dt.datetime

    @property
    def update(self) -> bool:
        """Whether this emission replaces an earlier one of the same window."""
        return self.revision > 1


@dataclass(frozen=True)
class LateEvent:
    """An event whose window had closed: the side output, with how late it was."""

    event: PaidOrder
    window_start: dt.datetime
    window_end: dt.datetime
    watermark: dt.datetime
    allowed_lateness: dt.timedelta

    @property
    def behind_watermark(self) -> dt.timedelta:
        """How far the event's time was behind the watermark when it arrived."""
        return self.watermark - self.event.occurred_at

    @property
    def reason(self) -> str:
        """Why it was set aside, in words."""
        return (
            f"window [{self.window_start.isoformat()}, {self.window_end.isoformat()}) closed: "
            f"watermark {self.watermark.isoformat()} is past its end plus the allowed lateness "
            f"({self.allowed_lateness.total_seconds():g} s)"
        )


@dataclass
class _Window:
    revenue_minor: int = 0
    orders: int = 0
    revision: int = 0
    changed: bool = True
    event_ids: set[str] = field(default_factory=set)
    first_offsets: dict[Source, int] = field(default_factory=dict)


@dataclass
class _Partition:
    clock: dt.datetime | None
    last_seen: dt.datetime
    next_offset: int | None = None


class TumblingWindows:
    """The operator (see the module docstring); one per consumer, fed in partition order."""

    def __init__(
        self,
        *,
        size: dt.timedelta,
        out_of_orderness: dt.timedelta,
        allowed_lateness: dt.timedelta,
        idle_timeout: dt.timedelta,
        watermark: dt.datetime | None = None,
        revisions: Mapping[WindowKey, int] | None = None,
    ) -> None:
        """An empty operator; after a restart, ``watermark`` and the ``revisions`` emitted so far.

        ``revisions`` are those of windows emitted but not final: rebuilt from the
        records read again, they carry on from their last revision.
        """
        if size <= dt.timedelta(0):
            raise ValueError("a window has a positive size")
        self.size = size
        self.out_of_orderness = out_of_orderness
        self.allowed_lateness = allowed_lateness
        self.idle_timeout = idle_timeout
        self._watermark = watermark
        self._revisions = dict(revisions or {})
        self._windows: dict[WindowKey, _Window] = {}
        self._partitions: dict[Source, _Partition] = {}

    @property
    def watermark(self) -> dt.datetime | None:
        """No event older than this is expected any more (``None`` until every partition spoke)."""
        return self._watermark

    def track(self, sources: Iterable[Source], now: dt.datetime) -> None:
        """Watch ``sources`` (the partitions assigned): a silent one holds the watermark until idle."""
        for source in sources:
            self._partitions.setdefault(source, _Partition(clock=None, last_seen=now))

    def observe(
        self, source: Source, offset: int, now: dt.datetime, occurred_at: dt.datetime | None = None
    ) -> None:
        """Record that ``source`` delivered ``offset`` (with its event time, when it has one)."""
        partition = self._partitions.setdefault(source, _Partition(clock=None, last_seen=now))
        partition.last_seen = now
        partition.next_offset = max(partition.next_offset or 0, offset + 1)
        if occurred_at is not None:
            partition.clock = occurred_at if partition.clock is None else max(partition.clock, occurred_at)
            self._advance(now)

    def add(self, order: PaidOrder, now: dt.datetime) -> LateEvent | None:
        """Count ``order`` in its window, or return it as a ``LateEvent`` when that window has closed."""
        start = self.window_start(order.occurred_at)
        end = start + self.size
        if self._watermark is not None and end + self.allowed_lateness <= self._watermark:
            self.observe(order.source, order.offset, now, order.occurred_at)
            return LateEvent(order, start, end, self._watermark, self.allowed_lateness)
        key = WindowKey(order.shop, order.currency, start)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window(revision=self._revisions.pop(key, 0))
        if order.event_id not in window.event_ids:
            window.event_ids.add(order.event_id)
            window.revenue_minor += order.revenue_minor
            window.orders += 1
            window.changed = True
            first = window.first_offsets.get(order.source)
            window.first_offsets[order.source] = order.offset if first is None else min(first, order.offset)
        self.observe(order.source, order.offset, now, order.occurred_at)
        return None

    def drain(self) -> list[WindowResult]:
        """The emissions since the last drain: windows fired, updated or closed (then forgotten)."""
        watermark = self._watermark
        if watermark is None:
            return []
        results: list[WindowResult] = []
        for key in sorted(self._windows):
            window = self._windows[key]
            end = key.start + self.size
            final = end + self.allowed_lateness <= watermark
            if end > watermark or not (window.changed or final):
                continue
            window.revision += 1
            window.changed = False
            results.append(
                WindowResult(key, end, window.revenue_minor, window.orders, window.revision, final, watermark)
            )
            if final:
                del self._windows[key]
        self._revisions = {
            key: revision
            for key, revision in self._revisions.items()
            if key.start + self.size + self.allowed_lateness > watermark
        }
        return results

    def safe_offsets(self) -> dict[Source, int]:
        """Per partition read, the offset a restart must read from to rebuild every open window."""
        safe = {
            source: partition.next_offset
            for source, partition in self._partitions.items()
            if partition.next_offset is not None
        }
        for window in self._windows.values():
            for source, offset in window.first_offsets.items():
                safe[source] = min(safe.get(source, offset), offset)
        return safe

    def window_start(self, occurred_at: dt.datetime) -> dt.datetime:
        """The start of the window ``occurred_at`` falls in (windows are aligned on the epoch)."""
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return occurred_at - (occurred_at - epoch) % self.size

    def _advance(self, now: dt.datetime) -> None:
        clocks = [
            partition.clock
            for partition in self._partitions.values()
            if now - partition.last_seen < self.idle_timeout
        ]
        if not clocks or any(clock is None for clock in clocks):
            return  # every partition idle, or one has not spoken yet: no evidence to move on
        candidate = min(clock for clock in clocks if clock is not None) - self.out_of_orderness
        if self._watermark is None or candidate > self._watermark:
            self._watermark = candidate
