"""The event pipeline's RED metrics per stage and topic, in the default registry.

- ``folio_streaming_records_total{stage, topic, outcome}``: records a stage handled
  (``ok``, ``retried``, ``dead_lettered``): the rate and the errors;
- ``folio_streaming_batch_seconds{stage}``: time to handle one batch, poll to commit: the
  duration;
- ``folio_streaming_event_age_seconds{stage, topic}``: from the event's ``occurred-at`` to
  the stage handling it. The sink's is the pipeline's freshness, an SLO (docs/slo.md); its
  buckets carry the trace id as an exemplar (``folio.core.exemplars``).

Module-level for the reason the cache's are (``folio.core.cache.metrics``). ``stage`` is
one of the pipeline's stage names and ``topic`` a configured topic: both bounded.
"""

from __future__ import annotations

import datetime as dt

from prometheus_client import Counter, Histogram

from folio.core.exemplars import observe

__all__ = ["BATCH_SECONDS", "EVENT_AGE", "OUTCOMES", "RECORDS", "record_batch", "record_handled"]

OUTCOMES = frozenset({"ok", "retried", "dead_lettered"})
"""What can become of a record a stage handles."""

RECORDS = Counter(
    "folio_streaming_records_total",
    "Records a pipeline stage handled, by outcome: ok, retried, dead_lettered.",
    ["stage", "topic", "outcome"],
)
BATCH_SECONDS = Histogram(
    "folio_streaming_batch_seconds",
    "Time a pipeline stage took to handle one batch, from poll to commit.",
    ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
EVENT_AGE = Histogram(
    "folio_streaming_event_age_seconds",
    "Seconds from an event's occurred-at to a pipeline stage handling it.",
    ["stage", "topic"],
    # 60 s is the freshness SLO's threshold: keep a bucket boundary there.
    buckets=(0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 300, 900, 3600),
)


def record_handled(
    stage: str, topic: str, occurred_at: dt.datetime, *, outcome: str = "ok", now: dt.datetime | None = None
) -> None:
    """Count one record ``stage`` handled from ``topic``; an ``ok`` one also observes its event's age.

    ``occurred_at`` is timezone-aware (the envelope guarantees it). A clock behind the
    producer's reads as age 0, never negative.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome is one of {sorted(OUTCOMES)}, not {outcome!r}")
    RECORDS.labels(stage, topic, outcome).inc()
    if outcome == "ok":
        age = ((now or dt.datetime.now(dt.UTC)) - occurred_at).total_seconds()
        observe(EVENT_AGE.labels(stage, topic), max(age, 0.0))


def record_batch(stage: str, seconds: float) -> None:
    """Observe one batch of ``stage`` taking ``seconds``, with the current trace as exemplar."""
    observe(BATCH_SECONDS.labels(stage), seconds)
