"""`folio up` as a test runs it: on free gateway and gRPC ports, waited for, SIGTERMed after.

with running_folio_up(tmp_path, env={...}) as up:
httpx.get(f"{up.url}/readyz")
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.e2e.conftest import folio_env

__all__ = ["READY_MARKER", "FolioUp", "running_folio_up"]

STARTUP_LIMIT_S = 120


READY_MARKER = "Ctrl-C stops everything this command started."


class FolioUp:
    """A running `folio up` process and everything it has printed so far."""

    def __init__(self, proc: subprocess.Popen[str], url: str, home: Path, env: dict[str, str]) -> None:
        self.proc = proc
        self.url = url
        self.home = home  # where it runs: .folio/logs holds each process's log
        self.env = env  # its environment: an operator command run with it sees the same platform
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def folio(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """``python -m folio ARGS`` as an operator of this platform runs it: its folder, its settings."""
        return subprocess.run(
            [sys.executable, "-m", "folio", *args],
            cwd=self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    @property
    def output(self) -> str:
        """Everything printed so far."""
        return "".join(self.lines)

    def wait_until_up(self) -> None:
        """Block until `folio up` reports everything started, failing if it exits first."""
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while READY_MARKER not in self.output:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"folio up did not come up (exit {self.proc.returncode}):\n{self.output}")
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM it, wait for it to exit and for its output to be read."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextmanager
def running_folio_up(cwd: Path, *args: str, env: dict[str, str]) -> Iterator[FolioUp]:
    """Start `folio up ARGS` on free gateway, gRPC and trace receiver ports; wait for it; SIGTERM it."""
    port = free_port()
    grpc_ports = {
        f"FOLIO_GRPC_{service}_{kind}": str(free_port())
        for service in ("USERS", "ORDERS")
        for kind in ("PORT", "METRICS_PORT")
    }
    grpc_ports["FOLIO_TRACES_PORT"] = str(free_port())  # the trace receiver's, like the servers'
    for metrics in ("FOLIO_INBOX_METRICS_PORT", "FOLIO_STREAMING_METRICS_PORT"):
        grpc_ports[metrics] = str(free_port())  # two platforms of one suite never share a port
    # One worker is enough to see it come up; two would only add start-up time here.
    child_env = folio_env(
        {"FOLIO_GATEWAY_PORT": str(port), "FOLIO_MESSAGING_REPLICAS": "1", **grpc_ports, **env}
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "folio", "up", *args],
        cwd=cwd,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    up = FolioUp(proc, f"http://127.0.0.1:{port}", cwd, child_env)
    try:
        up.wait_until_up()
        yield up
    finally:
        up.stop()
