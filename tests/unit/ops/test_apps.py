"""What `folio up` supervises: the gateway always, the search worker only where there is a search engine."""

from __future__ import annotations

import pytest

from folio.core.settings import Settings
from folio.ops.apps import folio_processes

pytestmark = pytest.mark.unit


def test_the_full_platform_runs_the_gateway_and_the_search_worker(settings: Settings) -> None:
    """Both run as `python -m ...` in this environment, with the given env and their own log files."""
    specs = {spec.name: spec for spec in folio_processes(settings, {"FOLIO_X": "1"})}
    assert list(specs) == ["gateway", "search-sync"]
    worker = specs["search-sync"]
    assert list(worker.argv[1:]) == ["-m", "folio", "search", "sync"]
    assert worker.env["FOLIO_X"] == "1"
    assert worker.env["FOLIO_SERVICE_NAME"] == "search-sync"
    assert worker.log_file != specs["gateway"].log_file
    assert worker.probe() is None  # a worker has nothing to probe: ready once running


def test_supervised_processes_log_to_their_file_only(settings: Settings) -> None:
    """Each child writes its log lines to its .jsonl file, not also to the .out file `folio up` captures."""
    for spec in folio_processes(settings, {}):
        assert spec.env["FOLIO_LOGGING_STDOUT"] == "false", spec.name
        assert spec.log_file.suffix == ".out"


def test_lite_mode_has_no_search_worker(settings: Settings) -> None:
    """Lite mode has no search engine, so nothing to keep in sync."""
    assert [spec.name for spec in folio_processes(settings, {}, lite=True)] == ["gateway"]
