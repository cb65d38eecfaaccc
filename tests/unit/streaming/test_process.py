"""The event pipeline under `folio up`: one `streams` process running every stage, none in lite mode."""

from __future__ import annotations

import pytest

from folio.core.settings import Settings
from folio.ops.apps import folio_processes

pytestmark = pytest.mark.unit


def test_folio_up_runs_the_pipeline_as_one_streams_process_outside_lite_mode(settings: Settings) -> None:
    """`python -m folio.entrypoints.streams all`, logging to its own file; absent in lite mode."""
    specs = {spec.name: spec for spec in folio_processes(settings, {"FOLIO_X": "1"})}
    streams = specs["streams"]
    assert list(streams.argv[1:]) == ["-m", "folio.entrypoints.streams", "all"]
    assert streams.env["FOLIO_SERVICE_NAME"] == "streams"
    assert streams.env["FOLIO_X"] == "1"
    assert streams.stop_timeout_s > settings.streaming.delivery_timeout_s  # a batch in flight may finish
    assert "streams" not in {spec.name for spec in folio_processes(settings, {}, lite=True)}
