"""Folio's API beside the FastAPI full-stack template (the starting point Folio's users would otherwise take).

The peer is the template's backend (``fastapi/full-stack-fastapi-template``, MIT) at
commit ``f459c20a``, the last that runs on Python 3.11, serving
``GET /api/v1/items/?skip=0&limit=20`` to a normal user with a bearer token and 200
items in the user's account. Folio serves ``GET /api/v1/tasks`` (first page of 20, 200
tasks in the shop) to a staff member with a bearer token, with every part of its
request on: JWT, roles, tenant scope under row-level security, rate limits, metering,
the JSON access log and metrics. Both run one uvicorn worker on the same PostgreSQL 15
(the template in its own database, as its own role), both seeded with generated rows
(``bench-synthetic-*``), not real data.

Load: wrk ``-t2 -c16`` per round, rounds interleaved template, Folio, template, Folio…
and the medians reported, so a noisy neighbour hits both sides alike. Server CPU per
request comes from ``/proc/<pid>/stat`` over each measured round: steadier than req/s
on a shared machine. A second comparison does the same for the health checks.

Obtaining the peer (once, with network; the benchmark itself runs offline)::

    git clone https://github.com/fastapi/full-stack-fastapi-template <dir>
    git -C <dir> checkout f459c20a

and point ``FOLIO_BENCH_TEMPLATE_DIR`` at ``<dir>`` (default
``.folio/bench/peers/full-stack-fastapi-template``). The benchmark refuses any other
commit. It installs the template's own locked dependencies into their own environment
(``.folio/bench/peers/template-venv``, with ``uv sync --frozen``: uv's cache serves it
offline after the first time), never into Folio's.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from benchmarks.bench_api_tasks import FOLIO_ENV, TASKS, seed_shop_with_tasks
from benchmarks.harness import (
    RESULTS_DIR,
    BenchResult,
    Measurement,
    Served,
    free_port,
    measure_http,
    serve_process,
    uvicorn_argv,
)
from folio.core.migrations import upgrade
from folio.core.settings import Settings, load_settings

NAME = "api_vs_template"
SECONDS = int(os.environ.get("FOLIO_BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("FOLIO_BENCH_ROUNDS", "2"))
CONNECTIONS = 16
PINNED_COMMIT = "f459c20a"
TEMPLATE_DIR = Path(
    os.environ.get("FOLIO_BENCH_TEMPLATE_DIR", str(RESULTS_DIR / "peers" / "full-stack-fastapi-template"))
)
TEMPLATE_VENV = RESULTS_DIR / "peers" / "template-venv"
TEMPLATE_ROLE = "template_bench"
SUPERUSER = "admin@bench.example.com"
READER = "reader@bench.example.com"


def _template_checkout() -> Path:
    """The template's checkout at the pinned commit, or a clear error saying how to get it."""
    how = (
        f"git clone https://github.com/fastapi/full-stack-fastapi-template {TEMPLATE_DIR} && "
        f"git -C {TEMPLATE_DIR} checkout {PINNED_COMMIT} (or set FOLIO_BENCH_TEMPLATE_DIR)"
    )
    if not (TEMPLATE_DIR / "backend" / "app" / "main.py").is_file():
        raise RuntimeError(f"the FastAPI template is not at {TEMPLATE_DIR}: {how}")
    head = subprocess.run(
        ["git", "-C", str(TEMPLATE_DIR), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if not head.startswith(PINNED_COMMIT):
        raise RuntimeError(f"{TEMPLATE_DIR} is at {head[:8]}, not the pinned {PINNED_COMMIT}: {how}")
    return TEMPLATE_DIR


def _template_python(checkout: Path) -> str:
    """The template's own environment, synced from its lock file; its python."""
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        raise RuntimeError("uv is needed to build the template's environment (run through `make bench`)")
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(TEMPLATE_VENV.absolute())}
    env.pop("VIRTUAL_ENV", None)
    subprocess.run(
        [uv, "sync", "--frozen", "--no-dev", "--package", "app", "--python", "3.11", "--quiet"],
        cwd=checkout,
        env=env,
        check=True,
    )
    return str(TEMPLATE_VENV.absolute() / "bin" / "python")


def _template_database(settings: Settings) -> dict[str, str]:
    """A fresh database and role for the template on Folio's PostgreSQL; the template's settings."""
    from folio.ops.services.postgres import PostgresService, quote_ident, quote_literal

    password = secrets.token_urlsafe(18)
    server = PostgresService(settings)
    server.psql(
        "primary",
        f"DROP DATABASE IF EXISTS {quote_ident(TEMPLATE_ROLE)};\n"
        f"DROP ROLE IF EXISTS {quote_ident(TEMPLATE_ROLE)};\n"
        f"CREATE ROLE {quote_ident(TEMPLATE_ROLE)} LOGIN PASSWORD {quote_literal(password)};\n"
        f"CREATE DATABASE {quote_ident(TEMPLATE_ROLE)} OWNER {quote_ident(TEMPLATE_ROLE)};\n",
    )
    postgres = settings.services.postgres
    return {
        "PROJECT_NAME": "template-bench",
        "ENVIRONMENT": "local",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "POSTGRES_SERVER": postgres.host,
        "POSTGRES_PORT": str(postgres.port),
        "POSTGRES_USER": TEMPLATE_ROLE,
        "POSTGRES_PASSWORD": password,
        "POSTGRES_DB": TEMPLATE_ROLE,
        "FIRST_SUPERUSER": SUPERUSER,
        "FIRST_SUPERUSER_PASSWORD": secrets.token_urlsafe(18),
        "SENTRY_DSN": "",
    }


def _seed_template(base: str, env: dict[str, str], items: int) -> str:
    """Through the template's own API: a normal user with ``items`` items; that user's token."""

    def token(client: httpx.Client, username: str, password: str) -> str:
        answer = client.post("/api/v1/login/access-token", data={"username": username, "password": password})
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    with httpx.Client(base_url=base, timeout=30) as client:
        admin = token(client, SUPERUSER, env["FIRST_SUPERUSER_PASSWORD"])
        password = secrets.token_urlsafe(18)
        client.post(
            "/api/v1/users/",
            json={"email": READER, "password": password},
            headers={"Authorization": f"Bearer {admin}"},
        ).raise_for_status()
        reader = token(client, READER, password)
        for number in range(items):
            client.post(
                "/api/v1/items/",
                json={"title": f"bench-synthetic-item-{number}", "description": "generated"},
                headers={"Authorization": f"Bearer {reader}"},
            ).raise_for_status()
    return reader


def cache_reads(base: str) -> dict[str, dict[str, float]]:
    """Per cache name: its L1 and L2 hits and misses so far, from the server's ``/metrics``."""
    from prometheus_client.parser import text_string_to_metric_families

    reads: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(httpx.get(f"{base}/metrics", timeout=10).text):
        if family.name not in {"folio_cache_hits", "folio_cache_misses"}:
            continue
        for sample in family.samples:
            if sample.name.endswith("_total"):
                what = f"{sample.labels['layer']}_{family.name.removeprefix('folio_cache_')}"
                reads.setdefault(sample.labels["cache"], {})[what] = sample.value
    return reads


def hit_ratios(before: dict[str, dict[str, float]], after: dict[str, dict[str, float]]) -> dict[str, float]:
    """Per cache: the share of reads between the two scrapes that L1 or L2 answered."""
    ratios = {}
    for name, now in after.items():
        then = before.get(name, {})

        def delta(what: str, now: dict[str, float] = now, then: dict[str, float] = then) -> float:
            return now.get(what, 0.0) - then.get(what, 0.0)

        reads = delta("l1_hits") + delta("l1_misses")
        if reads:
            ratios[name] = (delta("l1_hits") + delta("l2_hits")) / reads
    return ratios


def _round(served: Served, path: str, label: str, token: str | None) -> Measurement:
    """One measured wrk round, with the server's CPU per request over exactly that round."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    before = served.cpu_seconds()
    measured = measure_http(
        served.base + path, label=label, seconds=SECONDS, connections=CONNECTIONS, headers=headers
    )
    # The warm-up round is in the CPU delta too: charge it at the measured round's rate.
    cpu = served.cpu_seconds() - before
    requests = measured.requests * (1 + 2 / SECONDS)
    if measured.errors:
        raise RuntimeError(f"{label}: {measured.errors} failed requests during the run")
    return Measurement(**{**measured.__dict__, "cpu_ms_per_request": 1000 * cpu / requests})


def _median(rounds: list[Measurement]) -> Measurement:
    """Each figure's median over the rounds."""

    def mid(read: Callable[[Measurement], float | None]) -> float:
        return statistics.median(v for v in (read(m) for m in rounds) if v is not None)

    return Measurement(
        label=rounds[0].label,
        requests=int(mid(lambda m: m.requests)),
        seconds=mid(lambda m: m.seconds),
        rps=mid(lambda m: m.rps),
        p50_ms=mid(lambda m: m.p50_ms),
        p99_ms=mid(lambda m: m.p99_ms),
        errors=0,
        p95_ms=mid(lambda m: m.p95_ms),
        cpu_ms_per_request=mid(lambda m: m.cpu_ms_per_request),
    )


def _interleaved(
    sides: list[tuple[Served, str, str, str | None]],
) -> list[Measurement]:
    """``ROUNDS`` rounds of each side in turn (A B A B …); the median of each side."""
    rounds: list[list[Measurement]] = [[] for _ in sides]
    for _ in range(ROUNDS):
        for index, (served, path, label, token) in enumerate(sides):
            rounds[index].append(_round(served, path, label, token))
    return [_median(side) for side in rounds]


def run() -> list[BenchResult]:
    """Start both apps side by side on one PostgreSQL, seed them, measure them in turn."""
    checkout = _template_checkout()
    python = _template_python(checkout)
    os.environ.update(FOLIO_ENV)
    settings = load_settings()
    upgrade(settings.database_migration_url)
    _, folio_token = asyncio.run(seed_shop_with_tasks(settings))
    template_env = _template_database(settings)
    backend = checkout / "backend"
    for script in (["-m", "alembic", "upgrade", "head"], ["app/initial_data.py"]):
        subprocess.run([python, *script], cwd=backend, env={**os.environ, **template_env}, check=True)
    template_port, folio_port = free_port(), free_port()
    template_argv = uvicorn_argv(python, "app.main:app", template_port, factory=False)
    folio_argv = uvicorn_argv(sys.executable, "benchmarks.apps:folio_gateway", folio_port, factory=True)
    with (
        serve_process(
            template_argv,
            template_env,
            port=template_port,
            ready_path="/api/v1/utils/health-check/",
            cwd=backend,
        ) as template,
        serve_process(folio_argv, FOLIO_ENV, port=folio_port, ready_path="/healthz") as folio,
    ):
        template_token = _seed_template(template.base, template_env, TASKS)
        reads_before = cache_reads(folio.base)
        template_api, folio_api = _interleaved(
            [
                (template, "/api/v1/items/?skip=0&limit=20", "template", template_token),
                (folio, "/api/v1/tasks", "folio", folio_token),
            ]
        )
        ratios = hit_ratios(reads_before, cache_reads(folio.base))
        template_health, folio_health = _interleaved(
            [
                (template, "/api/v1/utils/health-check/", "template", None),
                (folio, "/healthz", "folio", None),
            ]
        )
    print(
        f"{NAME}: p99 folio/template = {folio_api.p99_ms / template_api.p99_ms:.2f} (goal <= 0.33); "
        "cache hit ratios during the API rounds: "
        + (", ".join(f"{name} {ratio:.2%}" for name, ratio in sorted(ratios.items())) or "no cache read")
    )
    parameters: dict[str, object] = {
        "seconds": SECONDS,
        "rounds": ROUNDS,
        "connections": CONNECTIONS,
        "peer": f"fastapi/full-stack-fastapi-template@{PINNED_COMMIT} (backend), one uvicorn worker",
        "database": "PostgreSQL 15 (Folio's primary; the template in its own database and role)",
        "load": "wrk -t2, rounds interleaved, medians",
    }
    return [
        BenchResult.comparing(
            __doc__,
            name=NAME,
            folio=folio_api,
            peer=template_api,
            ratio_label="folio/template req/s (goal >= 3)",
            parameters={
                **parameters,
                "endpoint": "GET /api/v1/tasks vs GET /api/v1/items/ (20 of 200, bearer token)",
                "p99_ratio": folio_api.p99_ms / template_api.p99_ms,
                "cache_hit_ratios": ratios,
            },
        ),
        BenchResult.comparing(
            __doc__,
            name=f"{NAME}_health",
            folio=folio_health,
            peer=template_health,
            ratio_label="folio/template health req/s (goal >= 1)",
            parameters={**parameters, "endpoint": "/healthz vs /api/v1/utils/health-check/"},
        ),
    ]
