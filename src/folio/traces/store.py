"""The bounded trace store: kept traces written, searched, read whole, and pruned by count and age.

PostgreSQL under ``folio up`` (SQLite in lite mode: the same tables): the traces live beside
the data they describe, survive a restart, are searched with indexes, and need no other
server. ``prune_traces`` bounds them (``traces.max_traces``, ``traces.max_age_hours``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.columns import utcnow
from folio.core.db import Database
from folio.traces.models import StoredSpan, TraceSummary
from folio.traces.otlp import SpanRecord
from folio.traces.sampling import DecidedTrace, root_of

__all__ = [
    "SpanRow",
    "TraceQuery",
    "TraceRow",
    "TraceView",
    "get_trace",
    "prune_traces",
    "save_traces",
    "search_traces",
]


@dataclass(frozen=True)
class TraceRow:
    """One trace as the search lists it."""

    trace_id: str
    root_service: str
    root_name: str
    started_at: dt.datetime
    duration_ms: float
    error: bool
    span_count: int
    services: tuple[str, ...]
    kept_because: str


@dataclass(frozen=True)
class SpanRow:
    """One span as the waterfall draws it: ``offset_ms`` after the trace began, ``depth`` below its root."""

    span_id: str
    parent_span_id: str | None
    service: str
    name: str
    kind: str
    offset_ms: float
    duration_ms: float
    error: bool
    depth: int
    attributes: dict[str, object]


@dataclass(frozen=True)
class TraceView:
    """A whole trace: its summary and its spans, parents before children."""

    trace: TraceRow
    spans: list[SpanRow]


@dataclass(frozen=True)
class TraceQuery:
    """A trace search; every field narrows it (None: any)."""

    service: str | None = None
    operation: str | None = None
    min_duration_ms: float | None = None
    errors_only: bool = False
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    limit: int = 50


def _row(summary: TraceSummary) -> TraceRow:
    return TraceRow(
        trace_id=summary.trace_id,
        root_service=summary.root_service,
        root_name=summary.root_name,
        started_at=summary.started_at,
        duration_ms=summary.duration_ms,
        error=summary.error,
        span_count=summary.span_count,
        services=tuple(summary.services.split()),
        kept_because=summary.kept_because,
    )


def _stored(span: SpanRecord) -> StoredSpan:
    return StoredSpan(
        trace_id=span.trace_id,
        span_id=span.span_id,
        parent_span_id=span.parent_span_id,
        service=span.service[:100],
        name=span.name[:200],
        kind=span.kind[:20],
        started_at=span.started_at,
        duration_ms=span.duration_ms,
        error=span.error,
        attributes=dict(span.attributes),
    )


def _as_record(span: StoredSpan) -> SpanRecord:
    start_ns = int(span.started_at.timestamp() * 1e9)
    return SpanRecord(
        trace_id=span.trace_id,
        span_id=span.span_id,
        parent_span_id=span.parent_span_id,
        service=span.service,
        name=span.name,
        kind=span.kind,
        start_ns=start_ns,
        end_ns=start_ns + int(span.duration_ms * 1e6),
        error=span.error,
    )


async def save_traces(db: Database, traces: Sequence[DecidedTrace]) -> int:
    """Store the kept ones of ``traces`` (a trace stored before gets its late spans); spans written."""
    kept = [trace for trace in traces if trace.kept]
    if not kept:
        return 0

    async def work(session: AsyncSession) -> int:
        written = 0
        for trace in kept:
            known = list(
                (
                    await session.execute(select(StoredSpan).where(StoredSpan.trace_id == trace.trace_id))
                ).scalars()
            )
            seen = {span.span_id for span in known}
            fresh = list({span.span_id: span for span in trace.spans if span.span_id not in seen}.values())
            if not fresh:
                continue
            spans = [*(_as_record(span) for span in known), *fresh]
            root = root_of(spans)
            start = min(span.start_ns for span in spans)
            summary = await session.get(TraceSummary, trace.trace_id) or TraceSummary(
                trace_id=trace.trace_id, kept_because=trace.decision.value, stored_at=utcnow()
            )
            summary.root_service = root.service[:100]
            summary.root_name = root.name[:200]
            summary.started_at = dt.datetime.fromtimestamp(start / 1e9, dt.UTC)
            summary.duration_ms = (max(span.end_ns for span in spans) - start) / 1e6
            summary.error = any(span.error for span in spans)
            summary.span_count = len(spans)
            summary.services = " ".join(sorted({span.service for span in spans}))[:1000]
            session.add(summary)
            await session.flush()  # the summary's row before its spans' (their foreign key)
            session.add_all(_stored(span) for span in fresh)
            written += len(fresh)
        return written

    return await db.run(work)


async def search_traces(db: Database, query: TraceQuery) -> list[TraceRow]:
    """The newest kept traces matching ``query``, newest first."""
    statement = select(TraceSummary).order_by(TraceSummary.started_at.desc()).limit(query.limit)
    if query.service:
        statement = statement.where(TraceSummary.services.contains(query.service))
    if query.operation:
        statement = statement.where(TraceSummary.root_name.contains(query.operation))
    if query.min_duration_ms is not None:
        statement = statement.where(TraceSummary.duration_ms >= query.min_duration_ms)
    if query.errors_only:
        statement = statement.where(TraceSummary.error.is_(True))
    if query.since is not None:
        statement = statement.where(TraceSummary.started_at >= query.since)
    if query.until is not None:
        statement = statement.where(TraceSummary.started_at <= query.until)

    async def work(session: AsyncSession) -> list[TraceRow]:
        return [_row(summary) for summary in (await session.execute(statement)).scalars()]

    return await db.run(work)


async def get_trace(db: Database, trace_id: str) -> TraceView | None:
    """A kept trace with its spans in waterfall order, or None when the store has no such trace."""

    async def work(session: AsyncSession) -> TraceView | None:
        summary = await session.get(TraceSummary, trace_id.lower())
        if summary is None:
            return None
        spans = list(
            (
                await session.execute(
                    select(StoredSpan)
                    .where(StoredSpan.trace_id == summary.trace_id)
                    .order_by(StoredSpan.started_at)
                )
            ).scalars()
        )
        return TraceView(_row(summary), _waterfall(spans, summary.started_at))

    return await db.run(work)


def _waterfall(spans: list[StoredSpan], began: dt.datetime) -> list[SpanRow]:
    """Depth-first from the roots, children by start: each span right below its parent."""
    ids = {span.span_id for span in spans}
    children: dict[str | None, list[StoredSpan]] = {}
    for span in spans:
        children.setdefault(span.parent_span_id if span.parent_span_id in ids else None, []).append(span)
    rows: list[SpanRow] = []
    stack = [(span, 0) for span in reversed(children.get(None, []))]
    while stack:
        span, depth = stack.pop()
        rows.append(
            SpanRow(
                span_id=span.span_id,
                parent_span_id=span.parent_span_id,
                service=span.service,
                name=span.name,
                kind=span.kind,
                offset_ms=(span.started_at - began).total_seconds() * 1000,
                duration_ms=span.duration_ms,
                error=span.error,
                depth=depth,
                attributes=dict(span.attributes),
            )
        )
        stack.extend((child, depth + 1) for child in reversed(children.get(span.span_id, [])))
    return rows


async def prune_traces(
    db: Database, *, max_traces: int, max_age: dt.timedelta, now: dt.datetime | None = None
) -> int:
    """Delete traces stored over ``max_age`` ago, then the oldest past ``max_traces``; how many went."""
    cutoff = (now or utcnow()) - max_age

    async def work(session: AsyncSession) -> int:
        old = select(TraceSummary.trace_id).where(TraceSummary.stored_at < cutoff)
        doomed = set((await session.execute(old)).scalars())
        total = (await session.execute(select(func.count()).select_from(TraceSummary))).scalar_one()
        excess = total - len(doomed) - max_traces
        if excess > 0:
            oldest = (
                select(TraceSummary.trace_id)
                .where(TraceSummary.stored_at >= cutoff)
                .order_by(TraceSummary.started_at)
                .limit(excess)
            )
            doomed |= set((await session.execute(oldest)).scalars())
        if doomed:
            await session.execute(delete(StoredSpan).where(StoredSpan.trace_id.in_(doomed)))
            await session.execute(delete(TraceSummary).where(TraceSummary.trace_id.in_(doomed)))
        return len(doomed)

    return await db.run(work)
