"""The events benchmark's parts: its generated events, its quixstreams peer's facts, its arithmetic."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import uuid
from pathlib import Path
from types import ModuleType

import pytest
from benchmarks.bench_events import (
    LIFECYCLES,
    QUIX_PROJECT,
    Outcome,
    Sighting,
    Watched,
    generated_order_events,
    on_table,
    private_schemas,
)

from folio.streaming.api import EventSchemas, StreamRecord, order_facts

pytestmark = pytest.mark.unit

SHOP = uuid.UUID("6a0c1b5e-7f7e-4a61-9a36-1f2d9b7c0e11")


def quix_app() -> ModuleType:
    """The quixstreams peer's module, loaded from its file (its quixstreams imports are lazy)."""
    spec = importlib.util.spec_from_file_location("facts_app", QUIX_PROJECT / "facts_app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_events_pass_their_schemas_as_whole_lifecycles_in_order() -> None:
    """Every generated payload passes its orders schema; each order's versions count up from its placing."""
    drafts = generated_order_events(400, family="bench0", shop=SHOP, seed=7)
    schemas = EventSchemas.load()
    versions: dict[str, list[tuple[int, str]]] = {}
    for draft in drafts:
        schemas.check("orders", draft.type, draft.schema_version, draft.payload)
        assert (draft.topic, draft.tenant_id, draft.key) == ("bench0", SHOP, draft.payload["order_id"])
        versions.setdefault(str(draft.key), []).append((int(draft.payload["version"]), draft.type))
    assert len(drafts) == 400
    lifecycles = {tuple(kind for kind, _status in lifecycle) for lifecycle in LIFECYCLES}
    for steps in versions.values():
        assert [version for version, _kind in steps] == list(range(1, len(steps) + 1))
        assert any(lifecycle[: len(steps)] == tuple(kind for _v, kind in steps) for lifecycle in lifecycles)
    assert len({draft.type for draft in drafts}) == 8  # every orders event type occurs


def test_private_schemas_check_the_private_family_as_orders() -> None:
    """The relay and the transform of a bench family check its events with the orders schemas."""
    [draft] = generated_order_events(1, family="bench9", shop=SHOP, seed=1)
    schemas = private_schemas("bench9")
    schemas.check("bench9", draft.type, 1, draft.payload)
    assert {key.topic for key in schemas.documents} == {"bench9", "orders.facts"}


def test_the_quixstreams_peer_derives_the_facts_folio_derives() -> None:
    """The peer's copy of ``order_facts`` agrees with Folio's on every generated event type and currency."""
    app = quix_app()
    for index, draft in enumerate(generated_order_events(300, family="orders", shop=SHOP, seed=3)):
        occurred = dt.datetime(2026, 12, 4, 16, 0, index % 60, tzinfo=dt.UTC)
        record = StreamRecord(
            event_id=f"outbox-{index}",
            family="orders",
            type=draft.type,
            schema_version=1,
            tenant_id=SHOP,
            occurred_at=occurred,
            correlation_id=None,
            trace_id=None,
            key=f"{SHOP}:{draft.key}",
            payload=json.loads(json.dumps(draft.payload)),
            topic="bench.orders",
            partition=0,
            offset=index,
        )
        headers = [(name, value) for name, value in record.headers() if isinstance(value, bytes)]
        peer = app.order_facts(record.payload, headers)
        assert peer.pop("event_id") == record.event_id
        assert peer.pop("schema_version") == 1
        assert peer == order_facts(record)


@pytest.mark.parametrize("name", ["analytics_order_events; DROP TABLE x", 'a"b', "a b"])
def test_only_plain_table_names_reach_the_sql(name: str) -> None:
    """A table name that is not letters, digits and underscores is refused, not interpolated."""
    with pytest.raises(ValueError, match="not a table name"):
        on_table("SELECT 1 FROM {table}", name)


def test_drain_rate_counts_from_the_first_rows_seen_to_the_last() -> None:
    """Rows and CPU after the first poll that saw rows, over the time to the poll that saw them all."""
    watched = Watched(sightings=[Sighting(10.0, 0, 1.0), Sighting(11.0, 100, 1.5), Sighting(13.0, 1100, 2.5)])
    rate, cpu_per_row, seconds = watched.drain(1100)
    assert (rate, cpu_per_row, seconds) == (500.0, 0.001, 2.0)


def test_a_drain_seen_in_one_poll_counts_from_the_first_poll() -> None:
    """All rows in one poll: the span starts at the first poll, so no division by zero."""
    watched = Watched(sightings=[Sighting(10.0, 0, 1.0), Sighting(10.5, 50, 1.25)])
    assert watched.drain(50) == (100.0, 0.005, 0.5)


def test_an_outcome_reports_lag_percentiles_and_counts_lost_and_duplicated_rows_as_errors() -> None:
    """p50/p99 come from the live lags (ms); lost plus duplicated rows are the errors."""
    lags = [index / 1000 for index in range(1, 101)]  # 1..100 ms
    outcome = Outcome(
        drain_rate=2000.0,
        drain_s=10.0,
        cpu_s_per_event=0.0002,
        lags_s=lags,
        lost=1,
        duplicated=2,
    )
    measured = outcome.measurement("folio.streaming")
    assert measured.p50_ms == pytest.approx(50.5)
    assert measured.p99_ms == pytest.approx(99.01)
    assert (measured.rps, measured.errors) == (2000.0, 3)
    assert measured.cpu_ms_per_request == pytest.approx(0.2)


def test_the_quixstreams_peer_has_its_own_locked_project() -> None:
    """The peer's environment is declared and locked beside it, never in Folio's lock."""
    assert '[[package]]\nname = "quixstreams"\n' in (QUIX_PROJECT / "uv.lock").read_text()
    assert "quixstreams" not in (Path(__file__).parents[3] / "uv.lock").read_text()
