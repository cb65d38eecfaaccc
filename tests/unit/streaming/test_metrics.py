"""The event pipeline's metrics: records per stage, topic and outcome; the sink's event age observed."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from prometheus_client import REGISTRY

from folio.streaming.metrics import record_batch, record_handled

pytestmark = pytest.mark.unit

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_an_ok_record_counts_and_observes_its_age_in_the_right_bucket() -> None:
    """A record 45 s old is counted ok and lands at or under the freshness threshold (le=60), above le=30."""
    topic = f"test.{uuid.uuid4().hex[:8]}"
    record_handled("sink", topic, NOW - dt.timedelta(seconds=45), now=NOW)
    assert _value("folio_streaming_records_total", stage="sink", topic=topic, outcome="ok") == 1
    labels = {"stage": "sink", "topic": topic}
    assert _value("folio_streaming_event_age_seconds_bucket", **labels, le="60.0") == 1
    assert _value("folio_streaming_event_age_seconds_bucket", **labels, le="30.0") == 0
    assert _value("folio_streaming_event_age_seconds_sum", **labels) == 45


def test_a_dead_lettered_record_counts_without_an_age() -> None:
    """Only handled records tell the pipeline's freshness; a dead-lettered one is an error, not an age."""
    topic = f"test.{uuid.uuid4().hex[:8]}"
    record_handled("transform", topic, NOW, outcome="dead_lettered", now=NOW)
    assert (
        _value("folio_streaming_records_total", stage="transform", topic=topic, outcome="dead_lettered") == 1
    )
    assert _value("folio_streaming_event_age_seconds_count", stage="transform", topic=topic) == 0


def test_a_clock_behind_the_producer_reads_as_age_zero() -> None:
    """An event from the future (clock skew) is observed as 0 s old, never negative."""
    topic = f"test.{uuid.uuid4().hex[:8]}"
    record_handled("sink", topic, NOW + dt.timedelta(seconds=5), now=NOW)
    assert _value("folio_streaming_event_age_seconds_sum", stage="sink", topic=topic) == 0


def test_an_unknown_outcome_is_refused() -> None:
    """Outcomes are a closed set (bounded label values)."""
    with pytest.raises(ValueError, match="outcome"):
        record_handled("sink", "t", NOW, outcome="maybe")


def test_batches_are_timed_per_stage() -> None:
    """record_batch observes the batch's duration under its stage."""
    stage = f"stage-{uuid.uuid4().hex[:8]}"
    record_batch(stage, 0.2)
    assert _value("folio_streaming_batch_seconds_count", stage=stage) == 1
    assert _value("folio_streaming_batch_seconds_bucket", stage=stage, le="0.25") == 1
