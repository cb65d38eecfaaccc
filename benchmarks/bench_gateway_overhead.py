"""Gateway middleware stack vs bare FastAPI (the L4-01 peer): req/s and p99.

Both apps run under the same uvicorn settings, one at a time, in their own process on
loopback; the load comes from wrk, a native process, so the client is not the bottleneck.
"""

from __future__ import annotations

import os

from benchmarks.harness import BenchResult, Measurement, measure_http, serve_app

NAME = "gateway_overhead"
SECONDS = int(os.environ.get("FOLIO_BENCH_SECONDS", "10"))
CONNECTIONS = 16


def _measure(url: str, label: str) -> Measurement:
    return measure_http(url, label=label, seconds=SECONDS, connections=CONNECTIONS)


def run() -> BenchResult:
    """Measure both apps one after the other on the same machine."""
    folio_env = {"FOLIO_DATABASE_BACKEND": "sqlite"}
    with serve_app("benchmarks.apps:folio_gateway", folio_env) as base:
        folio = _measure(f"{base}/healthz", "folio")
    with serve_app("benchmarks.peers:bare_fastapi", {}) as base:
        peer = _measure(f"{base}/healthz", "bare FastAPI")
    return BenchResult.comparing(
        __doc__,
        name=NAME,
        folio=folio,
        peer=peer,
        ratio_label="folio/bare req/s",
        parameters={
            "seconds": SECONDS,
            "connections": CONNECTIONS,
            "endpoint": "/healthz",
            "load": "wrk -t2",
        },
    )
