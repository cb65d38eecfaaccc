"""The tasks list endpoint with full tracing on vs off: what OpenTelemetry costs a request.

Both sides are the real gateway (``benchmarks.apps.folio_gateway``: JWT, tenant scope,
rate limits in Redis, metering, Prometheus metrics, a JSON log line per request) serving
the first page of one shop's 200 generated tasks on PostgreSQL. The traced side also
starts the SDK as ``folio up`` does: a span per request (FastAPI), per SQL statement
(SQLAlchemy) and per Redis command, the log lines' ``trace_id``, batches exported over
OTLP/HTTP to a real `folio traces collect` (tail sampling, the store) in its own process.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from fastapi import FastAPI

from benchmarks.bench_api_tasks import FOLIO_ENV, SECONDS, seed_shop_with_tasks
from benchmarks.harness import BenchResult, Measurement, free_port, measure_http, serve_app
from folio.core.migrations import upgrade
from folio.core.settings import load_settings

NAME = "telemetry"
CONNECTIONS = 16


def traced_gateway() -> FastAPI:
    """The benchmark's gateway with telemetry started and the app instrumented, as its process would be."""
    from benchmarks.apps import folio_gateway
    from folio.core.telemetry import instrument_fastapi, start_telemetry

    settings = load_settings()
    start_telemetry(settings.telemetry, service="gateway", libraries=("redis", "httpx"))
    app = folio_gateway()
    instrument_fastapi(app)
    return app


@contextmanager
def _receiver(env: dict[str, str]) -> Iterator[str]:
    """`folio traces collect` on a free port; its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "folio", "traces", "collect"],
        env={**os.environ, **env, "FOLIO_TRACES_PORT": str(port), "FOLIO_TELEMETRY_ENABLED": "false"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/metrics", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("folio traces collect did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _measure(url: str, label: str, token: str) -> Measurement:
    return measure_http(
        url,
        label=label,
        seconds=SECONDS,
        connections=CONNECTIONS,
        headers={"Authorization": f"Bearer {token}"},
    )


def _spans_received(base: str) -> str:
    lines = httpx.get(f"{base}/metrics", timeout=5).text.splitlines()
    return ", ".join(line for line in lines if line.startswith("folio_traces_spans_"))


def run() -> BenchResult:
    """Seed one shop, then load the gateway without tracing and with it, on the same PostgreSQL."""
    os.environ.update(FOLIO_ENV)
    settings = load_settings()
    upgrade(settings.database_migration_url)
    _tenant_id, token = asyncio.run(seed_shop_with_tasks(settings))
    off_env = {**FOLIO_ENV, "FOLIO_TELEMETRY_ENABLED": "false"}
    with serve_app("benchmarks.apps:folio_gateway", off_env) as base:
        off = _measure(f"{base}/api/v1/tasks", "tracing off", token)
    with _receiver(FOLIO_ENV) as collector:
        on_env = {**FOLIO_ENV, "FOLIO_TELEMETRY_ENABLED": "true", "FOLIO_TELEMETRY_ENDPOINT": collector}
        with serve_app("benchmarks.bench_telemetry:traced_gateway", on_env) as base:
            on = _measure(f"{base}/api/v1/tasks", "tracing on", token)
        time.sleep(1.0)  # the last batch's export
        received = _spans_received(collector)
    if on.errors or off.errors:
        raise RuntimeError(f"requests failed during the run: on {on.errors}, off {off.errors}")
    return BenchResult.comparing(
        __doc__,
        name=NAME,
        folio=on,
        peer=off,
        ratio_label="traced/untraced req/s",
        parameters={
            "seconds": SECONDS,
            "connections": CONNECTIONS,
            "endpoint": "GET /api/v1/tasks (first page of 20, 200 tasks in the shop)",
            "exporter": "OTLP/HTTP protobuf, BatchSpanProcessor, to folio traces collect",
            "receiver": received,
            "load": "wrk -t2",
        },
    )
