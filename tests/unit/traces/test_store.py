"""The trace store: kept traces written and merged, searched, drawn as a waterfall, bounded."""

from __future__ import annotations

import datetime as dt

import pytest

from folio.core.db import Database
from folio.traces.api import (
    DecidedTrace,
    Decision,
    TraceQuery,
    get_trace,
    prune_traces,
    save_traces,
    search_traces,
)
from tests.unit.traces.spans import T0, make_trace

pytestmark = pytest.mark.unit

MINUTE_NS = 60 * 10**9


async def test_a_kept_trace_is_found_and_drawn_parents_first(sqlite_database: Database) -> None:
    """Saved, searched by service, operation, duration and errors; the waterfall puts the root first."""
    slow = make_trace("POST /api/v1/orders", root_ms=1_500, children=2, error=True)
    fast = make_trace("GET /api/v1/tasks", root_ms=10)
    written = await save_traces(
        sqlite_database,
        [
            DecidedTrace(slow[0].trace_id, Decision.ERROR, slow),
            DecidedTrace(fast[0].trace_id, Decision.SAMPLED, fast),
            DecidedTrace("f" * 32, Decision.DROPPED, make_trace(trace_id="f" * 32)),
        ],
    )
    assert written == 5
    found = await search_traces(sqlite_database, TraceQuery(min_duration_ms=1_000))
    assert [row.trace_id for row in found] == [slow[0].trace_id]
    assert found[0].services == ("gateway", "orders")
    assert found[0].error
    assert [r.trace_id for r in await search_traces(sqlite_database, TraceQuery(errors_only=True))] == [
        slow[0].trace_id
    ]
    assert len(await search_traces(sqlite_database, TraceQuery(operation="tasks", service="gateway"))) == 1
    view = await get_trace(sqlite_database, slow[0].trace_id)
    assert view is not None
    assert [(row.name, row.depth) for row in view.spans] == [
        ("POST /api/v1/orders", 0),
        ("child 0", 1),
        ("child 1", 1),
    ]
    assert await get_trace(sqlite_database, "f" * 32) is None  # dropped: never stored


async def test_late_spans_join_their_stored_trace(sqlite_database: Database) -> None:
    """Spans arriving after the trace was stored are added, the summary recomputed, duplicates ignored."""
    spans = make_trace(children=2)
    trace_id = spans[0].trace_id
    await save_traces(sqlite_database, [DecidedTrace(trace_id, Decision.SAMPLED, spans[1:])])
    await save_traces(sqlite_database, [DecidedTrace(trace_id, Decision.SAMPLED, spans)])
    view = await get_trace(sqlite_database, trace_id)
    assert view is not None
    assert view.trace.span_count == 3
    assert view.trace.root_name == "GET /api/v1/tasks"


async def test_retention_keeps_the_newest_traces_within_count_and_age(sqlite_database: Database) -> None:
    """Traces stored before max_age go; then the oldest past max_traces go."""
    traces = [make_trace(start_ns=T0 + n * MINUTE_NS) for n in range(5)]
    await save_traces(sqlite_database, [DecidedTrace(t[0].trace_id, Decision.SAMPLED, t) for t in traces])
    now = dt.datetime.now(dt.UTC)
    assert await prune_traces(sqlite_database, max_traces=3, max_age=dt.timedelta(hours=1), now=now) == 2
    left = await search_traces(sqlite_database, TraceQuery())
    assert [row.trace_id for row in left] == [t[0].trace_id for t in reversed(traces[2:])]
    later = now + dt.timedelta(hours=2)
    assert await prune_traces(sqlite_database, max_traces=3, max_age=dt.timedelta(hours=1), now=later) == 3
    assert await search_traces(sqlite_database, TraceQuery()) == []
    assert await get_trace(sqlite_database, traces[4][0].trace_id) is None
