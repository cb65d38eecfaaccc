"""What `folio up` supervises: the gateway, the search worker where there is a search engine, companions."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from folio.core.settings import Settings
from folio.ops.apps import folio_processes

pytestmark = pytest.mark.unit


def test_the_full_platform_runs_the_gateway_the_grpc_services_and_the_search_worker(
    settings: Settings,
) -> None:
    """All run as `python -m ...` in this environment, with the given env and their own log files."""
    specs = {spec.name: spec for spec in folio_processes(settings, {"FOLIO_X": "1"})}
    assert list(specs)[:4] == ["gateway", "users", "orders", "search-sync"]  # workers follow
    worker = specs["search-sync"]
    assert list(worker.argv[1:]) == ["-m", "folio", "search", "sync"]
    assert worker.env["FOLIO_X"] == "1"
    assert worker.env["FOLIO_SERVICE_NAME"] == "search-sync"
    assert worker.log_file != specs["gateway"].log_file


def test_supervised_processes_log_to_their_file_only(settings: Settings) -> None:
    """Each child writes its log lines to its .jsonl file, not also to the .out file `folio up` captures."""
    for spec in folio_processes(settings, {}):
        assert spec.env["FOLIO_LOGGING_STDOUT"] == "false", spec.name
        assert spec.log_file.suffix == ".out"


def test_lite_mode_has_no_search_worker(settings: Settings) -> None:
    """Lite mode has no search engine, so nothing to keep in sync; the gRPC services run all the same."""
    assert [spec.name for spec in folio_processes(settings, {}, lite=True)] == [
        "gateway",
        "users",
        "orders",
        "traces",
    ]


def test_every_process_traces_to_the_receiver_folio_up_runs_but_the_receiver(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telemetry is on under `folio up`, exporting to `folio traces collect`, which never traces itself."""
    monkeypatch.delenv("FOLIO_TELEMETRY_ENABLED", raising=False)
    monkeypatch.delenv("FOLIO_TELEMETRY_ENDPOINT", raising=False)
    specs = {spec.name: spec for spec in folio_processes(settings, {})}
    receiver = specs["traces"]
    assert list(receiver.argv[1:]) == ["-m", "folio", "traces", "collect"]
    assert receiver.ports == {"traces.port": settings.traces.port}
    assert receiver.env["FOLIO_TELEMETRY_ENABLED"] == "false"
    for name in ("gateway", "users", "orders", "search-sync", "worker-1", "streams"):
        assert specs[name].env["FOLIO_TELEMETRY_ENABLED"] == "true", name
        assert specs[name].env["FOLIO_TELEMETRY_ENDPOINT"] == f"http://127.0.0.1:{settings.traces.port}"
    monkeypatch.setenv("FOLIO_TELEMETRY_ENABLED", "false")  # the person's choice stands
    assert "FOLIO_TELEMETRY_ENABLED" not in folio_processes(settings, {})[0].env


def test_the_grpc_services_run_as_their_own_processes_on_their_ports(settings: Settings) -> None:
    """Each gRPC server is `python -m folio.entrypoints.grpc <name>`, its ports named by their settings."""
    specs = {spec.name: spec for spec in folio_processes(settings, {})}
    users, orders = specs["users"], specs["orders"]
    assert list(orders.argv[1:]) == ["-m", "folio.entrypoints.grpc", "orders"]
    assert orders.env["FOLIO_SERVICE_NAME"] == "orders"
    assert orders.ports == {
        "grpc.orders.port": settings.grpc.orders.port,
        "grpc.orders.metrics_port": settings.grpc.orders.metrics_port,
    }
    assert users.ports["grpc.users.port"] == settings.grpc.users.port


def _install_companion(root: Path, module: str, source: str) -> None:
    """A minimal installed distribution declaring one `folio.processes` entry point."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    dist = root / f"{module}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[folio.processes]\ntracker = {module}:processes\n")


COMPANION = """
    import sys
    from folio.ops.process import ProcessSpec

    def processes(settings, env, *, lite):
        def spec(name):
            return ProcessSpec(
                name=name,
                argv=[sys.executable, "-m", "tracker_app"],
                log_file=settings.home / "logs" / f"{name}.out",
                pid_file=settings.home / "run" / f"{name}.pid",
                probe=lambda: None,
                env=dict(env),
            )
        return [spec("tracker"), spec("gateway"), "not a spec"]
"""


def test_a_companion_app_joins_through_its_declared_process_spec(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `folio.processes` entry point adds processes after Folio's; a taken name or a non-spec is skipped."""
    _install_companion(tmp_path, "tracker_app", COMPANION)
    monkeypatch.syspath_prepend(str(tmp_path))
    specs = folio_processes(settings, {"FOLIO_X": "1"}, lite=True)
    assert [spec.name for spec in specs] == ["gateway", "users", "orders", "traces", "tracker"]
    assert specs[-1].env["FOLIO_X"] == "1"
    assert specs[0].argv[1:] == ["-m", "folio.entrypoints.gateway"]  # Folio's own gateway kept its name


def test_a_broken_companion_does_not_stop_the_platform(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A companion whose declaration fails to import is skipped; Folio's processes still run."""
    _install_companion(tmp_path, "broken_tracker_app", "raise ImportError('missing dependency')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert [spec.name for spec in folio_processes(settings, {}, lite=True)] == [
        "gateway",
        "users",
        "orders",
        "traces",
    ]


def test_prometheus_scrapes_the_inbox_once_it_is_ready(settings: Settings, tmp_path: Path) -> None:
    """Once ready, a file-discovery target ``inbox`` names its metrics port."""
    services = settings.services.model_copy(update={"data_dir": tmp_path})
    settings = settings.model_copy(update={"services": services})
    inbox = next(spec for spec in folio_processes(settings, {}) if spec.name == "inbox")
    assert inbox.after_ready is not None

    inbox.after_ready()

    [target] = (tmp_path / "prometheus" / "targets").glob("*.json")
    assert target.name == "inbox.json"
    [group] = json.loads(target.read_text())
    assert group["targets"] == [f"{settings.inbox.metrics_host}:{settings.inbox.metrics_port}"]
    assert group["labels"]["service"] == "inbox"


def _with_data_dir(settings: Settings, data_dir: Path, **messaging: int) -> Settings:
    """``settings`` with Prometheus's targets under ``data_dir`` and ``messaging`` fields replaced."""
    return settings.model_copy(
        update={
            "services": settings.services.model_copy(update={"data_dir": data_dir}),
            "messaging": settings.messaging.model_copy(update=messaging),
        }
    )


def test_every_worker_and_the_search_sync_serve_metrics_on_ports_of_their_own_and_are_scraped(
    settings: Settings, tmp_path: Path
) -> None:
    """Worker n on messaging.metrics_port + n - 1, search-sync and flows on theirs: one scrape target each."""
    settings = _with_data_dir(settings, tmp_path, replicas=3)
    base = settings.messaging.metrics_port
    specs = {spec.name: spec for spec in folio_processes(settings, {})}
    scraped = ["worker-1", "worker-2", "worker-3", "search-sync", "flows"]

    for name in scraped:
        after_ready = specs[name].after_ready
        assert after_ready is not None, name
        after_ready()

    targets = {
        path.stem: json.loads(path.read_text())[0]
        for path in (tmp_path / "prometheus" / "targets").glob("*.json")
    }
    assert sorted(targets) == sorted(scraped)
    assert {name: targets[name]["targets"] for name in scraped[:3]} == {
        f"worker-{n}": [f"{settings.messaging.metrics_host}:{base + n - 1}"] for n in (1, 2, 3)
    }
    for n in (1, 2, 3):  # the worker serves the port its environment names
        assert specs[f"worker-{n}"].env["FOLIO_MESSAGING_METRICS_PORT"] == str(base + n - 1)
    search = settings.services.search
    assert targets["search-sync"]["targets"] == [f"{search.sync_metrics_host}:{search.sync_metrics_port}"]
    assert targets["search-sync"]["labels"]["service"] == "search-sync"
    every_port = [port for spec in specs.values() for port in spec.ports.values()]
    assert len(every_port) == len(set(every_port))  # no two processes of `folio up` share a port


def test_a_metrics_port_of_0_serves_nothing_and_registers_nothing(settings: Settings, tmp_path: Path) -> None:
    """With messaging.metrics_port 0 each worker is ready once it runs, binds no port and is not scraped."""
    settings = _with_data_dir(settings, tmp_path, metrics_port=0)
    workers = [spec for spec in folio_processes(settings, {}) if spec.name.startswith("worker-")]

    assert [spec.name for spec in workers] == ["worker-1", "worker-2"]
    for spec in workers:
        assert (spec.after_ready, dict(spec.ports), spec.probe()) == (None, {}, None)
        assert spec.env["FOLIO_MESSAGING_METRICS_PORT"] == "0"


def test_lite_mode_registers_no_scrape_target(settings: Settings) -> None:
    """No Prometheus runs in lite mode: the receiver is probed but not registered (no server data folder)."""
    lite = {spec.name: spec for spec in folio_processes(settings, {}, lite=True)}
    full = {spec.name: spec for spec in folio_processes(settings, {}, lite=False)}
    assert (lite["traces"].after_ready, full["traces"].after_ready is not None) == (None, True)
