"""A real gateway process (uvicorn) over PostgreSQL and Redis, for Chromium (see tests/e2e/conftest.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from folio.core.settings import Settings
from tests.conftest import REPO_ROOT, free_port

STARTUP_LIMIT_S = 60
LOCKOUT_THRESHOLD = 3


@dataclass
class Gateway:
    """A running gateway process and what it has printed so far."""

    proc: subprocess.Popen[str]
    url: str
    lines: list[str] = field(default_factory=list)

    def read(self) -> None:
        """Collect the process's output (in a thread) so its pipe never fills."""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        """Everything printed so far."""
        return "".join(self.lines)


def gateway_env(port: int) -> dict[str, str]:
    """The suite's own environment (so the gateway finds the same services) plus the web test's settings."""
    return {
        **os.environ,
        "FOLIO_PROFILE": "test",
        "FOLIO_DATABASE_BACKEND": "postgres",
        "FOLIO_CACHE_BACKEND": "redis",
        "FOLIO_GATEWAY_HOST": "127.0.0.1",
        "FOLIO_GATEWAY_PORT": str(port),
        "FOLIO_MAIL_BASE_URL": f"http://127.0.0.1:{port}",
        "FOLIO_IDENTITY_LOCKOUT_THRESHOLD": str(LOCKOUT_THRESHOLD),
        "FOLIO_IDENTITY_ARGON2_TIME_COST": "1",
        "FOLIO_IDENTITY_ARGON2_MEMORY_KIB": "8192",
        "FOLIO_IDENTITY_ARGON2_PARALLELISM": "1",
        "FOLIO_LOGGING_FORMAT": "console",
        "NO_COLOR": "1",
    }


@pytest.fixture
def gateway_port() -> int:
    """The free port the gateway will listen on, chosen first so that other servers can point at it."""
    return free_port()


@pytest.fixture
def gateway_extra_env() -> dict[str, str]:
    """More environment for the gateway process; a test module overrides it (the shop's: the gRPC targets)."""
    return {}


@pytest.fixture
def gateway(
    migrated_postgres: Settings,
    require_service: Callable[[str], None],
    gateway_port: int,
    gateway_extra_env: dict[str, str],
) -> Iterator[Gateway]:
    """``python -m folio.entrypoints.gateway`` on ``gateway_port``, ready; SIGTERM afterwards."""
    require_service("redis")
    port = gateway_port
    proc = subprocess.Popen(
        [sys.executable, "-m", "folio.entrypoints.gateway"],
        cwd=REPO_ROOT,
        env={**gateway_env(port), **gateway_extra_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = Gateway(proc=proc, url=f"http://127.0.0.1:{port}")
    reader = threading.Thread(target=running.read, daemon=True)
    reader.start()
    try:
        _wait_until_healthy(running)
        yield running
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        reader.join(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def _wait_until_healthy(gateway: Gateway) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while time.monotonic() < deadline:
        if gateway.proc.poll() is not None:
            pytest.fail(f"the gateway exited ({gateway.proc.returncode}):\n{gateway.output}")
        try:
            if httpx.get(f"{gateway.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the gateway did not become healthy in {STARTUP_LIMIT_S} s:\n{gateway.output}")
