"""The one declaration of a process Folio runs, and how it is launched and stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from folio.ops.health import Probe


class RestartPolicy(StrEnum):
    """What the supervisor does when a process exits on its own."""

    NEVER = "never"
    ON_FAILURE = "on-failure"
    ALWAYS = "always"


class ProcessError(RuntimeError):
    """A process did not start or become ready; the message names it and its log."""


@dataclass(frozen=True)
class ProcessSpec:
    """Everything needed to run, check and stop one process.

    ``prepare`` runs before each start (idempotent: writing config, ``initdb``);
    ``after_ready`` runs once the probe passes (creating roles, buckets, vhosts).
    ``user`` runs the process as that system account (PostgreSQL, RabbitMQ refuse root).
    """

    name: str
    argv: Sequence[str]
    log_file: Path
    pid_file: Path
    probe: Probe
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    user: str | None = None
    restart: RestartPolicy = RestartPolicy.ON_FAILURE
    max_restarts: int = 3
    ready_timeout_s: float = 60.0
    stop_signal: signal.Signals = signal.SIGTERM
    stop_timeout_s: float = 20.0
    prepare: Callable[[], None] | None = None
    after_ready: Callable[[], None] | None = None

    @property
    def executable(self) -> str:
        """The program's base name, used to check a recorded PID still runs it."""
        return Path(self.argv[0]).name


@dataclass(frozen=True)
class RunningProcess:
    """A process Folio started, as recorded in its PID file."""

    name: str
    pid: int
    executable: str
    started_at: float

    def is_alive(self) -> bool:
        """Whether the PID still runs the executable Folio started (guards against PID reuse)."""
        try:
            cmdline = Path(f"/proc/{self.pid}/cmdline").read_bytes()
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return False
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            return False
        first = cmdline.split(b"\0", 1)[0].decode(errors="replace")
        return self.executable in Path(first).name or self.executable in cmdline.decode(errors="replace")


def read_pid_file(path: Path) -> RunningProcess | None:
    """The process recorded in ``path``, or None when there is none or it is unreadable."""
    try:
        data = json.loads(path.read_text())
        return RunningProcess(
            name=str(data["name"]), pid=int(data["pid"]), executable=str(data["executable"]), started_at=float(data["started_at"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def launch(spec: ProcessSpec) -> subprocess.Popen[bytes]:
    """Start ``spec`` in its own session, output appended to its log, and record its PID."""
    if spec.prepare is not None:
        spec.prepare()
    spec.log_file.parent.mkdir(parents=True, exist_ok=True)
    spec.pid_file.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **spec.env}
    with spec.log_file.open("ab") as log:
        proc = subprocess.Popen(
            list(spec.argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=spec.cwd,
            env=env,
            user=spec.user,
            start_new_session=True,
        )
    record = {"name": spec.name, "pid": proc.pid, "executable": spec.executable, "started_at": time.time()}
    spec.pid_file.write_text(json.dumps(record))
    return proc


def wait_ready(spec: ProcessSpec, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Block until ``spec``'s probe passes, or raise ``ProcessError`` naming its log.

    Fails fast when the process exits before it is ready.
    """
    deadline = time.monotonic() + spec.ready_timeout_s
    reason: str | None = "not probed yet"
    while time.monotonic() < deadline:
        reason = spec.probe()
        if reason is None:
            if spec.after_ready is not None:
                spec.after_ready()
            return
        if proc is not None and proc.poll() is not None:
            raise ProcessError(
                f"{spec.name} exited with code {proc.returncode} before it was ready; see {spec.log_file}"
            )
        time.sleep(0.25)
    raise ProcessError(f"{spec.name} was not ready after {spec.ready_timeout_s:.0f}s ({reason}); see {spec.log_file}")


def stop(spec: ProcessSpec) -> bool:
    """Stop the process recorded in ``spec.pid_file`` if it is still the one Folio started.

    Sends ``stop_signal`` to its process group, escalates to SIGKILL after
    ``stop_timeout_s``, and removes the PID file. Returns whether anything was stopped.
    """
    record = read_pid_file(spec.pid_file)
    if record is None:
        return False
    stopped = False
    if record.is_alive():
        _signal_group(record.pid, spec.stop_signal)
        deadline = time.monotonic() + spec.stop_timeout_s
        while record.is_alive() and time.monotonic() < deadline:
            _reap(record.pid)
            time.sleep(0.1)
        if record.is_alive():
            _signal_group(record.pid, signal.SIGKILL)
        _reap(record.pid)
        stopped = True
    spec.pid_file.unlink(missing_ok=True)
    return stopped


def _signal_group(pid: int, signo: signal.Signals) -> None:
    try:
        os.killpg(pid, signo)
    except ProcessLookupError:
        return
    except PermissionError:
        os.kill(pid, signo)


def _reap(pid: int) -> None:
    """Collect the exit status when the process is our child, so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return
