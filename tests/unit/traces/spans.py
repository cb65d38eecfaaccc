"""Spans for the trace tests: a trace of a root and children, by name and duration."""

from __future__ import annotations

import secrets

from folio.traces.api import SpanRecord

T0 = 1_780_000_000_000_000_000
"""A start time (ns since the epoch) every test trace starts from."""


def make_trace(
    root_name: str = "GET /api/v1/tasks",
    *,
    root_ms: float = 20.0,
    children: int = 1,
    error: bool = False,
    trace_id: str | None = None,
    start_ns: int = T0,
    external_parent: bool = False,
) -> list[SpanRecord]:
    """A gateway root of ``root_ms`` and ``children`` orders spans below it (the last failing with ``error``).

    ``external_parent`` gives the root a parent that is never exported (a browser's span).
    """
    trace_id = trace_id or secrets.token_hex(16)
    root_id = secrets.token_hex(8)
    end = start_ns + int(root_ms * 1e6)
    root = SpanRecord(
        trace_id=trace_id,
        span_id=root_id,
        parent_span_id=secrets.token_hex(8) if external_parent else None,
        service="gateway",
        name=root_name,
        kind="server",
        start_ns=start_ns,
        end_ns=end,
    )
    kids = [
        SpanRecord(
            trace_id=trace_id,
            span_id=secrets.token_hex(8),
            parent_span_id=root_id,
            service="orders",
            name=f"child {n}",
            kind="internal",
            start_ns=start_ns + 1_000_000 * (n + 1),
            end_ns=start_ns + 1_000_000 * (n + 2),
            error=error and n == children - 1,
        )
        for n in range(children)
    ]
    return [*kids, root]
