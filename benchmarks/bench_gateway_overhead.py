"""Gateway middleware stack vs bare FastAPI (the L4-01 peer): req/s and p99.

Both apps run under the same uvicorn settings, one at a time, in their own process on
loopback; the load comes from wrk, a native process, so the client is not the bottleneck.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from benchmarks.harness import BenchResult, Measurement, http_load

NAME = "gateway_overhead"
SECONDS = int(os.environ.get("FOLIO_BENCH_SECONDS", "10"))
CONNECTIONS = 16


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _serve(factory: str, port: int, env: dict[str, str]) -> Iterator[str]:
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    argv += ["--no-access-log"]
    proc = subprocess.Popen(
        argv, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=1).is_success:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"{factory} did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _measure(url: str, label: str) -> Measurement:
    http_load(url, seconds=2, connections=CONNECTIONS, label=label)  # warm-up
    return http_load(url, seconds=SECONDS, connections=CONNECTIONS, label=label)


def run() -> BenchResult:
    """Measure both apps one after the other on the same machine."""
    folio_env = {"FOLIO_DATABASE_BACKEND": "sqlite"}
    with _serve("benchmarks.apps:folio_gateway", _free_port(), folio_env) as url:
        folio = _measure(url, "folio")
    with _serve("benchmarks.peers:bare_fastapi", _free_port(), {}) as url:
        peer = _measure(url, "bare FastAPI")
    return BenchResult(
        name=NAME,
        description=__doc__.splitlines()[0] if __doc__ else NAME,
        folio=folio,
        peer=peer,
        ratio_label="folio/bare req/s",
        ratio=folio.rps / peer.rps,
        parameters={
            "seconds": SECONDS,
            "connections": CONNECTIONS,
            "endpoint": "/healthz",
            "load": "wrk -t2",
        },
    )
