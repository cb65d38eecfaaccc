"""Tail-based sampling: a trace is kept or dropped once it is complete, on what it turned out to be.

Key contracts:

- Spans are buffered by trace id. A trace is decided once ``quiet_s`` passed since its
  last span arrived (its root span, which ends last, is normally that span; the quiet
  period lets the other processes' batches join it). Then it is kept when any span
  failed (``error``), when its root took longer than its operation's SLO threshold
  (``slow``), or by a draw of ``keep_ratio`` (``sampled``); otherwise it is ``dropped``.
- The root is the earliest span whose parent is not in the trace (a caller's span that
  was never exported, like a browser's, does not stop a trace from having one).
- Memory is bounded: past ``max_buffered_spans`` the oldest traces are decided at once.
  Decisions are remembered (the last ``remembered`` trace ids), so a span arriving after
  its trace was decided follows that decision: appended when kept, dropped otherwise.
- The draw uses the sampler's ``random.Random``: seeded, a test's decisions are fixed.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from folio.traces.otlp import SpanRecord

__all__ = ["DecidedTrace", "Decision", "TailSampler", "root_of"]


class Decision(StrEnum):
    """Why a trace was kept, or that it was dropped."""

    ERROR = "error"
    SLOW = "slow"
    SAMPLED = "sampled"
    DROPPED = "dropped"


@dataclass(frozen=True)
class DecidedTrace:
    """A trace's spans (all of them, or late ones of a trace kept earlier) and the decision."""

    trace_id: str
    decision: Decision
    spans: list[SpanRecord]

    @property
    def kept(self) -> bool:
        """Whether the store gets these spans."""
        return self.decision is not Decision.DROPPED


@dataclass
class _Pending:
    spans: list[SpanRecord] = field(default_factory=list)
    last_seen: float = 0.0


def root_of(spans: Iterable[SpanRecord]) -> SpanRecord:
    """The earliest span whose parent is not among ``spans`` (there is one in any non-empty trace)."""
    spans = list(spans)
    ids = {span.span_id for span in spans}
    orphans = [span for span in spans if span.parent_span_id not in ids] or spans
    return min(orphans, key=lambda span: span.start_ns)


class TailSampler:
    """Buffers spans by trace and decides each trace when it is complete (see the module docstring)."""

    def __init__(
        self,
        *,
        keep_ratio: float,
        slow_ms: Mapping[str, float],
        default_slow_ms: float,
        quiet_s: float,
        max_buffered_spans: int,
        rng: random.Random | None = None,
        remembered: int = 100_000,
    ) -> None:
        self.keep_ratio = keep_ratio
        self.slow_ms = dict(slow_ms)
        self.default_slow_ms = default_slow_ms
        self.quiet_s = quiet_s
        self.max_buffered_spans = max_buffered_spans
        self.rng = rng or random.Random()  # noqa: S311 - a sampling draw, not a secret
        self.remembered = remembered
        self._pending: OrderedDict[str, _Pending] = OrderedDict()
        self._buffered = 0
        self._decided: OrderedDict[str, Decision] = OrderedDict()
        self.spans_received = 0
        self.spans_kept = 0
        self.traces: dict[Decision, int] = dict.fromkeys(Decision, 0)

    @property
    def buffered_spans(self) -> int:
        """Spans held undecided now."""
        return self._buffered

    def add(self, spans: Iterable[SpanRecord], *, now: float) -> list[DecidedTrace]:
        """Buffer ``spans``; returns late spans of traces decided before, and traces the bound forced out."""
        late: dict[str, list[SpanRecord]] = {}
        for span in spans:
            self.spans_received += 1
            decision = self._decided.get(span.trace_id)
            if decision is not None:
                late.setdefault(span.trace_id, []).append(span)
                continue
            pending = self._pending.setdefault(span.trace_id, _Pending())
            pending.spans.append(span)
            pending.last_seen = now
            self._buffered += 1
        out = [self._late(trace_id, found) for trace_id, found in late.items()]
        while self._buffered > self.max_buffered_spans and self._pending:
            trace_id = next(iter(self._pending))
            out.append(self._decide(trace_id))
        return out

    def due(self, *, now: float) -> list[DecidedTrace]:
        """The traces whose quiet period has passed, decided."""
        ready = [
            trace_id for trace_id, pending in self._pending.items() if now - pending.last_seen >= self.quiet_s
        ]
        return [self._decide(trace_id) for trace_id in ready]

    def drain(self) -> list[DecidedTrace]:
        """Decide every buffered trace now (at shutdown)."""
        return [self._decide(trace_id) for trace_id in list(self._pending)]

    def threshold_ms(self, operation: str) -> float:
        """The SLO latency threshold of a root ``operation``."""
        return self.slow_ms.get(operation, self.default_slow_ms)

    def judge(self, spans: list[SpanRecord]) -> Decision:
        """What tail sampling decides for a complete trace of ``spans`` (draws for the ordinary ones)."""
        if any(span.error for span in spans):
            return Decision.ERROR
        root = root_of(spans)
        if root.duration_ms > self.threshold_ms(root.name):
            return Decision.SLOW
        return Decision.SAMPLED if self.rng.random() < self.keep_ratio else Decision.DROPPED

    def _decide(self, trace_id: str) -> DecidedTrace:
        pending = self._pending.pop(trace_id)
        self._buffered -= len(pending.spans)
        decision = self.judge(pending.spans)
        self.traces[decision] += 1
        self._remember(trace_id, decision)
        decided = DecidedTrace(trace_id, decision, pending.spans)
        if decided.kept:
            self.spans_kept += len(pending.spans)
        return decided

    def _late(self, trace_id: str, spans: list[SpanRecord]) -> DecidedTrace:
        decided = DecidedTrace(trace_id, self._decided[trace_id], spans)
        if decided.kept:
            self.spans_kept += len(spans)
        return decided

    def _remember(self, trace_id: str, decision: Decision) -> None:
        self._decided[trace_id] = decision
        while len(self._decided) > self.remembered:
            self._decided.popitem(last=False)
