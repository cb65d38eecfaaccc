"""Tail sampling: errors and slow traces always kept, the rest at the rate, decided when complete, bounded."""

from __future__ import annotations

import random

import pytest

from folio.traces.api import Decision, SpanRecord, TailSampler
from tests.unit.traces.spans import make_trace

pytestmark = pytest.mark.unit


def _sampler(
    *, keep_ratio: float = 0.0, quiet_s: float = 5.0, max_buffered_spans: int = 10_000, seed: int = 7
) -> TailSampler:
    return TailSampler(
        keep_ratio=keep_ratio,
        slow_ms={"POST /api/v1/orders": 1_000.0},
        default_slow_ms=300.0,
        quiet_s=quiet_s,
        max_buffered_spans=max_buffered_spans,
        rng=random.Random(seed),  # noqa: S311 - a sampling draw, not a secret
    )


def _decide_one(sampler: TailSampler, spans: list[SpanRecord]) -> Decision:
    assert sampler.add(spans, now=0.0) == []
    (decided,) = sampler.due(now=10.0)
    return decided.decision


def test_an_error_trace_is_kept_even_at_rate_zero() -> None:
    """A trace with one failed span is kept whatever the draw."""
    assert _decide_one(_sampler(), make_trace(error=True, children=3)) is Decision.ERROR


def test_a_trace_slower_than_its_operations_threshold_is_kept() -> None:
    """The root's duration is judged against its own operation's threshold, else the default."""
    sampler = _sampler()
    assert _decide_one(sampler, make_trace("GET /api/v1/tasks", root_ms=301)) is Decision.SLOW
    assert _decide_one(sampler, make_trace("POST /api/v1/orders", root_ms=900)) is Decision.DROPPED
    assert _decide_one(sampler, make_trace("POST /api/v1/orders", root_ms=1_001)) is Decision.SLOW


def test_a_root_with_an_unexported_parent_is_still_the_root() -> None:
    """A browser's traceparent names a parent never exported: the gateway's span is the root judged."""
    spans = make_trace("GET /api/v1/tasks", root_ms=400, external_parent=True, children=2)
    assert _decide_one(_sampler(), spans) is Decision.SLOW


def test_fast_traces_are_kept_at_the_rate_with_a_seeded_draw() -> None:
    """1,000 fast traces at 10 %: about 100 kept, and the same seed keeps the same ones."""

    def kept(seed: int) -> list[str]:
        sampler = _sampler(keep_ratio=0.1, seed=seed)
        traces = [make_trace(trace_id=f"{n:032x}") for n in range(1_000)]
        for spans in traces:
            sampler.add(spans, now=0.0)
        return [trace.trace_id for trace in sampler.due(now=10.0) if trace.kept]

    first = kept(42)
    assert 70 <= len(first) <= 130
    assert kept(42) == first
    sampler = _sampler(keep_ratio=0.1, seed=42)
    for n in range(1_000):
        sampler.add(make_trace(trace_id=f"{n:032x}", children=1), now=0.0)
    sampler.due(now=10.0)
    assert sampler.spans_received == 2_000
    assert sampler.spans_kept == 2 * len(first)
    assert sampler.traces[Decision.SAMPLED] == len(first)


def test_a_trace_waits_for_its_quiet_period() -> None:
    """Nothing is decided while spans keep arriving; quiet_s after the last one it is."""
    sampler = _sampler(quiet_s=5.0)
    spans = make_trace(children=2)
    sampler.add(spans[:1], now=0.0)
    assert sampler.due(now=4.0) == []
    sampler.add(spans[1:], now=4.0)
    assert sampler.due(now=8.0) == []
    (decided,) = sampler.due(now=9.0)
    assert len(decided.spans) == 3


def test_late_spans_follow_their_traces_decision() -> None:
    """A span arriving after its trace was kept is handed on; after a drop it is dropped."""
    sampler = _sampler()
    kept_trace = make_trace(error=True, children=2)
    dropped_trace = make_trace(children=2)
    sampler.add(kept_trace[:-1] + dropped_trace[:-1], now=0.0)
    sampler.due(now=10.0)
    late = sampler.add([kept_trace[-1], dropped_trace[-1]], now=11.0)
    assert {(trace.trace_id, trace.kept) for trace in late} == {
        (kept_trace[0].trace_id, True),
        (dropped_trace[0].trace_id, False),
    }
    assert sampler.buffered_spans == 0


def test_the_buffer_is_bounded_by_deciding_the_oldest_traces() -> None:
    """Past max_buffered_spans the oldest traces are decided at once, whatever their quiet period."""
    sampler = _sampler(max_buffered_spans=10)
    traces = [make_trace(children=3) for _ in range(5)]  # 4 spans each
    forced = [decided for spans in traces for decided in sampler.add(spans, now=0.0)]
    assert sampler.buffered_spans <= 10
    assert [decided.trace_id for decided in forced] == [spans[0].trace_id for spans in traces[:3]]
