"""The gateway as a real server: ``python -m folio.entrypoints.gateway`` (uvicorn) in a subprocess.

For end-to-end tests that talk HTTP over a socket to the same process ``folio up``
supervises, on the services' PostgreSQL and Redis:

    with running_gateway(tmp_path) as url:
        httpx.get(f"{url}/readyz")

The process runs in ``cwd`` with no inherited ``FOLIO_*`` variables except the ones
given here (backend postgres, cache redis, a free port, the services' data folder),
so the test sees what a deployment with those settings would. The database must be
migrated already (the ``migrated_postgres`` fixture does it).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from folio.core.settings.services import default_services_data_dir
from tests.conftest import REPO_ROOT, free_port
from tests.e2e.conftest import folio_env

__all__ = ["FAST_ARGON2_ENV", "GatewayStartError", "running_gateway"]

STARTUP_LIMIT_S = 60.0

FAST_ARGON2_ENV = {
    "FOLIO_IDENTITY_ARGON2_TIME_COST": "1",
    "FOLIO_IDENTITY_ARGON2_MEMORY_KIB": "8192",
    "FOLIO_IDENTITY_ARGON2_PARALLELISM": "1",
    # These servers share the services' Redis (and its counters) across runs: a suite
    # run twice within the hour would otherwise meet the sign-up limit per IP.
    "FOLIO_IDENTITY_ANONYMOUS_RATE_PER_IP": "10000/hour",
}
"""The cheapest password hashing the settings allow (tests register many members), and
no practical sign-up limit for the loopback client."""


class GatewayStartError(RuntimeError):
    """The gateway exited or did not become ready in time; the message carries its output."""


@contextmanager
def running_gateway(cwd: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Start the gateway on a free loopback port, wait for ``/readyz``, yield its base URL; SIGTERM after."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "folio.entrypoints.gateway"],
        cwd=cwd,
        env=folio_env(
            {
                # The suite's servers: their data (and generated passwords) are the checkout's.
                "FOLIO_SERVICES_DATA_DIR": str(default_services_data_dir(REPO_ROOT)),
                "FOLIO_DATABASE_BACKEND": "postgres",
                "FOLIO_CACHE_BACKEND": "redis",
                "FOLIO_GATEWAY_PORT": str(port),
                "FOLIO_LOGGING_LEVEL": "WARNING",
                **(env or {}),
            }
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []

    def drain() -> None:
        assert proc.stdout is not None
        output.extend(proc.stdout)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise GatewayStartError(
                    f"gateway not ready (exit {proc.returncode}):\n{''.join(output)[-4000:]}"
                )
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()
