"""``folio services up | down | status``: the real servers, detached, with PID files."""

from __future__ import annotations

import fcntl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from folio.core.settings import Settings
from folio.ops.install import install
from folio.ops.ports import ephemeral_range, ephemeral_warnings
from folio.ops.process import (
    ProcessError,
    ProcessSpec,
    detach,
    ensure_ports_free,
    launch,
    read_pid_file,
    stop,
    wait_ready,
)
from folio.ops.reporting import Reporter, SilentReporter
from folio.ops.service import Service
from folio.ops.services import SERVICE_TYPES


class State(StrEnum):
    """How a service looks from outside."""

    RUNNING = "running"
    UNHEALTHY = "unhealthy"
    STOPPED = "stopped"
    NOT_INSTALLED = "not installed"
    EXTERNAL = "external"


@dataclass(frozen=True)
class ServiceStatus:
    """One row of ``folio services status``."""

    name: str
    state: State
    endpoints: dict[str, str]
    detail: str
    log_dir: str


@dataclass(frozen=True)
class Adopted:
    """A process ``up`` found running, started by an earlier ``folio services up`` or ``folio up``."""

    name: str
    pid: int

    def describe(self) -> str:
        """The line the CLI prints for it."""
        return f"{self.name}: already running, started by an earlier `folio services up`, pid {self.pid}"


class UnknownServiceError(ValueError):
    """A service name that Folio does not know."""


class ServiceManager:
    """Installs, starts, stops and inspects the local servers named in the settings."""

    def __init__(self, settings: Settings, reporter: Reporter | None = None) -> None:
        self.settings = settings
        self.reporter = reporter or SilentReporter()
        self.all = {cls.name: cls(settings) for cls in SERVICE_TYPES}
        self.adopted: list[Adopted] = []
        """What the last ``up`` found running and left alone (it stops none of them)."""

    def select(self, names: Iterable[str] | None = None) -> list[Service]:
        """The named services plus what they depend on, dependencies first."""
        wanted = list(names) if names else list(self.all)
        unknown = sorted(set(wanted) - set(self.all))
        if unknown:
            raise UnknownServiceError(
                f"unknown service(s) {', '.join(unknown)}; known: {', '.join(self.all)}"
            )
        ordered: list[Service] = []
        visiting: list[str] = []

        def visit(name: str) -> None:
            service = self.all[name]
            if service in ordered:
                return
            if name in visiting:
                cycle = " -> ".join([*visiting[visiting.index(name) :], name])
                raise UnknownServiceError(f"services depend on each other in a cycle: {cycle}")
            visiting.append(name)
            for dependency in service.depends_on:
                if dependency not in self.all:
                    raise UnknownServiceError(f"service {name} depends on unknown service {dependency}")
                visit(dependency)
            visiting.pop()
            ordered.append(service)

        for name in wanted:
            visit(name)
        return ordered

    def port_warnings(self, names: Iterable[str] | None = None) -> list[str]:
        """A line per port of NAMES (default: all) that the kernel may hand to an outgoing connection."""
        ports = {setting: port for service in self.select(names) for setting, port in service.ports().items()}
        return ephemeral_warnings(ports, ephemeral_range())

    def install_missing(self, services: list[Service]) -> list[str]:
        """Install what the services lack; returns the names of what was installed."""
        missing = [(service, req) for service in services for req in service.missing()]
        if not missing:
            return []
        self.reporter.begin(1, "installing")
        self.reporter.step(
            "apt-get install " + " ".join(sorted({getattr(r, "package", "") for _, r in missing} - {""}))
        )
        install([req for _, req in missing], self.settings.services.data_dir.absolute() / "install.log")
        self.reporter.done("installed")
        return sorted({service.name for service, _ in missing})

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the data folder's lock: one ``up`` or ``down`` at a time per data folder.

        Two ``folio services up`` run at once would otherwise both launch a server whose
        PID file neither had written yet; the loser's cleanup then removed the winner's
        PID file and left its server running unrecorded.
        """
        data_dir = self.settings.services.data_dir.absolute()
        data_dir.mkdir(parents=True, exist_ok=True)
        with (data_dir / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def up(self, names: Iterable[str] | None = None) -> list[ProcessSpec]:
        """Install, start and wait for the services; returns the specs this call started.

        Idempotent: a process already running (by its PID file) and healthy is left
        alone and not returned, so a caller stops only what it started. Concurrent
        calls on one data folder run one after the other (see ``exclusive``).
        """
        with self.exclusive():
            return self._up(names)

    def _up(self, names: Iterable[str] | None) -> list[ProcessSpec]:
        services = self.select(names)
        self.install_missing(services)
        specs = [spec for service in services for spec in service.processes()]
        self.reporter.begin(len(specs), "starting services")
        started: list[ProcessSpec] = []
        self.adopted = []
        try:
            for spec in specs:
                self.reporter.step(spec.name)
                if self._start(spec):
                    started.append(spec)
        except BaseException:
            # A failed start leaves nothing of its own behind (the next start would adopt
            # it as "already running"); what an earlier run started is not ours to stop.
            for spec in reversed(started):
                stop(spec)
            raise
        self.reporter.done("services ready")
        return started

    def _start(self, spec: ProcessSpec) -> bool:
        """Start ``spec`` unless it already runs; True when this call started it."""
        record = read_pid_file(spec.pid_file)
        if record is not None and record.is_alive():
            wait_ready(spec)
            self.adopted.append(Adopted(spec.name, record.pid))
            return False
        spec.pid_file.unlink(missing_ok=True)
        # A stranger on the port would make the launch fail to bind while the probe
        # passed on the stranger: refuse it by name instead of adopting it.
        ensure_ports_free(spec)
        proc = launch(spec)
        detach(proc)
        try:
            wait_ready(spec, proc)
        except ProcessError:
            stop(spec)
            raise
        return True

    def down(self, names: Iterable[str] | None = None) -> list[str]:
        """Stop NAMES (default: all) and whatever depends on them, dependents first.

        What they depend on keeps running: stopping the broker leaves the object
        store it keeps its log in alone.
        """
        with self.exclusive():
            return self._down(names)

    def _down(self, names: Iterable[str] | None) -> list[str]:
        chosen = list(names or [])
        self.select(chosen)  # rejects unknown names
        wanted = {self.all[name] for name in chosen} if chosen else set(self.all.values())
        while dependents := {
            service
            for service in self.all.values()
            if service not in wanted and any(self.all[dep] in wanted for dep in service.depends_on)
        }:
            wanted |= dependents
        stopped: list[str] = []
        for service in reversed(self.select()):
            if service in wanted:
                stopped.extend(spec.name for spec in reversed(service.processes()) if stop(spec))
        return stopped

    def status(self, names: Iterable[str] | None = None) -> list[ServiceStatus]:
        """Each service's state, URLs and, when unhealthy, why."""
        return [self._status_of(service) for service in self.select(names)]

    def _status_of(self, service: Service) -> ServiceStatus:
        log_dir = str(service.data_dir / "logs")
        if service.missing():
            return ServiceStatus(
                service.name, State.NOT_INSTALLED, service.endpoints(), "run `folio services up`", log_dir
            )
        specs = service.processes()
        if not specs:
            detail = "provided outside Folio (configured endpoint); not managed here"
            return ServiceStatus(service.name, State.EXTERNAL, service.endpoints(), detail, log_dir)
        problems = []
        running = 0
        for spec in specs:
            record = read_pid_file(spec.pid_file)
            if record is None or not record.is_alive():
                problems.append(f"{spec.name} not running")
                continue
            running += 1
            reason = spec.probe()
            if reason:
                problems.append(reason)
        if running == 0:
            return ServiceStatus(service.name, State.STOPPED, service.endpoints(), "", log_dir)
        state = State.UNHEALTHY if problems else State.RUNNING
        return ServiceStatus(service.name, state, service.endpoints(), "; ".join(problems), log_dir)
