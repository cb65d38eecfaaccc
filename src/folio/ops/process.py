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
from typing import Any

from folio.ops.health import Probe
from folio.ops.ports import env_var, port_owner


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
    ``ports`` names every TCP port the process binds by the setting that chooses it
    (``services.kafka.port``; a derived port reads ``services.object_store.s3_port + 1``),
    so a busy or badly chosen port is reported by what to change.
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
    ports: Mapping[str, int] = field(default_factory=dict)

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
    start_ticks: int | None = None
    """When the kernel started the process (clock ticks after boot); with the PID, unique."""

    def is_alive(self) -> bool:
        """Whether the PID still runs the process Folio started (guards against PID reuse).

        The command line must still name the executable and, when the PID file recorded
        it, the kernel's start time must match, so a reused PID running the same program
        (another ``python``, another ``postgres``) is not mistaken for ours.
        """
        try:
            cmdline = Path(f"/proc/{self.pid}/cmdline").read_bytes()
            fields = _stat_fields(self.pid)
        except (OSError, IndexError, ValueError):
            return False
        if fields[0] == "Z":
            return False
        if self.start_ticks is not None and int(fields[_STARTTIME]) != self.start_ticks:
            return False
        first = cmdline.split(b"\0", 1)[0].decode(errors="replace")
        return self.executable in Path(first).name or self.executable in cmdline.decode(errors="replace")


# Index of ``starttime`` (field 22 of /proc/<pid>/stat) among the fields after the command name.
_STARTTIME = 19


def _stat_fields(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after ``(comm)``, the state first."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    if len(fields) <= _STARTTIME:
        raise ValueError(f"short /proc/{pid}/stat")
    return fields


def _start_ticks(pid: int) -> int | None:
    try:
        return int(_stat_fields(pid)[_STARTTIME])
    except (OSError, ValueError):
        return None


def read_pid_file(path: Path) -> RunningProcess | None:
    """The process recorded in ``path``, or None when there is none or it is unreadable."""
    try:
        data = json.loads(path.read_text())
        ticks = data.get("start_ticks")
        return RunningProcess(
            name=str(data["name"]),
            pid=int(data["pid"]),
            executable=str(data["executable"]),
            started_at=float(data["started_at"]),
            start_ticks=None if ticks is None else int(ticks),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def ensure_ports_free(spec: ProcessSpec) -> None:
    """Raise ``ProcessError`` naming the setting, port and owner when a port of ``spec`` is taken.

    Called before a launch: the process would fail to bind (or, worse, a readiness probe
    would pass on the stranger). The owner is never stopped, since Folio did not start it.
    """
    for setting, port in spec.ports.items():
        owner = port_owner(port)
        if owner is not None:
            raise ProcessError(
                f"{spec.name} cannot start: {setting} = {port} is already in use by {owner.describe()}, "
                f"which Folio did not start; stop it or set {env_var(setting)} to a free port"
            )


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
            start_new_session=True,
            **_account(spec.user),
        )
    record = {
        "name": spec.name,
        "pid": proc.pid,
        "executable": spec.executable,
        "started_at": time.time(),
        "start_ticks": _start_ticks(proc.pid),
    }
    spec.pid_file.write_text(json.dumps(record))
    return proc


def _account(user: str | None) -> dict[str, Any]:
    """Popen arguments that run as ``user`` with that account's own groups, not root's."""
    if user is None:
        return {}
    import pwd

    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": os.getgrouplist(user, entry.pw_gid)}


_detached: list[subprocess.Popen[bytes]] = []


def detach(proc: subprocess.Popen[bytes]) -> None:
    """Leave ``proc`` running on its own; from now on it is known by its PID file.

    The ``Popen`` object is kept, and dropped once the process has exited and been
    reaped, so that losing it neither warns that the process still runs
    (``ResourceWarning``) nor leaves a zombie behind in a long-lived caller.
    """
    _detached[:] = [kept for kept in _detached if kept.poll() is None]
    _detached.append(proc)


def wait_ready(spec: ProcessSpec, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Block until ``spec``'s probe passes, or raise ``ProcessError`` naming its log.

    Fails fast when the process exits before it is ready.
    """
    deadline = time.monotonic() + spec.ready_timeout_s
    reason: str | None = "not probed yet"
    pause_s = 0.02  # quick servers are noticed at once; slow ones are probed every 0.25 s
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
        time.sleep(pause_s)
        pause_s = min(0.25, pause_s * 2)
    raise ProcessError(
        f"{spec.name} was not ready after {spec.ready_timeout_s:g}s ({reason}); see {spec.log_file}"
    )


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
        if not _wait_gone(record, spec.stop_timeout_s):
            _signal_group(record.pid, signal.SIGKILL)
            # SIGKILL cannot be ignored, but dying takes a moment: wait, so that a caller
            # starting a replacement does not find the old one still holding its port.
            _wait_gone(record, _KILL_WAIT_S)
        stopped = True
    spec.pid_file.unlink(missing_ok=True)
    return stopped


_KILL_WAIT_S = 5.0


def _wait_gone(record: RunningProcess, timeout_s: float) -> bool:
    """Wait up to ``timeout_s`` for ``record`` to exit (reaping it if it is our child)."""
    deadline = time.monotonic() + timeout_s
    while True:
        _reap(record.pid)
        if _exited(record):
            _reap(record.pid)  # it may have become a zombie since the first call
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _exited(record: RunningProcess) -> bool:
    """Whether the process of ``record`` has finished exiting (gone, or a zombie).

    Stricter than ``not is_alive()``: a process tearing down has already lost its
    command line but may still hold its files and ports for a moment.
    """
    try:
        fields = _stat_fields(record.pid)
        cmdline = Path(f"/proc/{record.pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return True
    if fields[0] in {"Z", "X", "x"}:
        return True
    if record.start_ticks is not None:
        return int(fields[_STARTTIME]) != record.start_ticks
    # No start time recorded (an older PID file): another command line means the PID was
    # reused; an empty one means the process is still tearing down.
    return bool(cmdline) and not record.is_alive()


def _signal_group(pid: int, signo: signal.Signals) -> None:
    try:
        os.killpg(pid, signo)
    except ProcessLookupError:
        return
    except PermissionError:
        os.kill(pid, signo)


def _reap(pid: int) -> None:
    """Collect the exit status when the process is our child, so it does not linger as a zombie.

    A child this process detached is reaped through its kept ``Popen``: reaping it by
    PID behind that object's back leaves it looking alive, and Python then warns at
    exit that the subprocess "is still running".
    """
    for kept in _detached:
        if kept.pid == pid:
            if kept.poll() is not None:
                _detached.remove(kept)
            return
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return
