"""Tiny real child processes for the ops tests: an HTTP server, a crasher, a stubborn sleeper.

Every spec a test builds through the ``procs`` fixture is stopped (by its PID file) when
the test ends, so a failing test never leaves a process behind.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from folio.ops.health import Probe
from folio.ops.process import ProcessSpec, launch, stop

PY = sys.executable

# Prints "ready" once SIGTERM is ignored, so a probe can tell when it is safe to signal it.
IGNORES_SIGTERM = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(120)\n"
)
SLEEPS = "import time; print('ready', flush=True); time.sleep(120)"


def http_server_argv(port: int, directory: Path) -> list[str]:
    """The argv of a Python HTTP server on 127.0.0.1:``port`` serving ``directory``."""
    return [PY, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(directory)]


def script_argv(code: str, *args: str) -> list[str]:
    """The argv running ``code`` with the test's interpreter."""
    return [PY, "-c", code, *args]


def log_contains(path: Path, text: str) -> Probe:
    """A probe that passes once ``text`` appears in the file at ``path``."""

    def probe() -> str | None:
        try:
            found = text in path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            found = False
        return None if found else f"{text!r} not in {path.name} yet"

    return probe


def never_ready() -> str | None:
    """A probe that never passes."""
    return "still warming up"


def pid_running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout_s`` passes; returns whether it held."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class Procs:
    """Builds specs under a temporary folder and launches them, remembering what to clean up.

    The ``Popen`` objects are held until teardown, which stops every spec by its PID file
    and reaps the children, so no test ends with a process still running.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.specs: list[ProcessSpec] = []
        self.popens: list[subprocess.Popen[bytes]] = []

    def spec(self, name: str, argv: Sequence[str], probe: Probe | None = None, **options: Any) -> ProcessSpec:
        """A spec with its log and PID file under the temporary folder; ready when it prints "ready"."""
        log_file = self.root / "logs" / f"{name}.log"
        options.setdefault("ready_timeout_s", 10.0)
        options.setdefault("stop_timeout_s", 5.0)
        spec = ProcessSpec(
            name=name,
            argv=list(argv),
            log_file=log_file,
            pid_file=self.root / "run" / f"{name}.pid",
            probe=probe or log_contains(log_file, "ready"),
            **options,
        )
        self.specs.append(spec)
        return spec

    def launch(self, spec: ProcessSpec) -> subprocess.Popen[bytes]:
        """``folio.ops.process.launch``, keeping the ``Popen`` for teardown."""
        proc = launch(spec)
        self.popens.append(proc)
        return proc

    def track(self, proc: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        """Keep a ``Popen`` started elsewhere until teardown."""
        self.popens.append(proc)
        return proc

    def cleanup(self) -> None:
        """Stop every spec, then kill and reap anything still running."""
        for spec in reversed(self.specs):
            stop(spec)
        for proc in self.popens:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    """A ``Procs`` rooted in the test's temporary folder, cleaned up at the end."""
    made = Procs(tmp_path)
    yield made
    made.cleanup()
