"""List tasks through Folio's API vs bare FastAPI running the same SQL (the L4-01 peer).

Folio's side is the real gateway: JWT authentication, tenant scope with row-level
security, per-credential and per-shop rate limits in Redis, API-call metering, and a
JSON access log line per request, on PostgreSQL. The peer is a bare FastAPI endpoint
that runs the same statements on the same database as the same role. Both serve the
first page (20) of one shop's 200 tasks; the tasks are a generated fixture
(``bench-synthetic-task-N``), not real data.
"""

from __future__ import annotations

import asyncio
import os
import uuid

from benchmarks.harness import BenchResult, Measurement, measure_http, serve_app
from benchmarks.seeding import register_bench_shop
from folio.core.db import open_database
from folio.core.migrations import upgrade
from folio.core.settings import Settings, load_settings

NAME = "api_tasks"
SECONDS = int(os.environ.get("FOLIO_BENCH_SECONDS", "10"))
CONNECTIONS = 16
TASKS = 200

# Limits far above what the run can reach: the benchmark measures the cost of checking
# them on every request, not the 429s.
FOLIO_ENV = {
    "FOLIO_DATABASE_BACKEND": "postgres",
    "FOLIO_CACHE_BACKEND": "redis",
    "FOLIO_API_RATE_LIMIT_PER_KEY": "100000000/minute",
    "FOLIO_API_RATE_LIMIT_PER_TENANT": "100000000/minute",
    "FOLIO_TENANCY_QUOTAS_API_CALLS_PER_DAY": "1000000000",
    "FOLIO_IDENTITY_ACCESS_TTL_S": "3600",
    "FOLIO_LOGGING_SHIP_TO_SEARCH": "false",
    # Both sides read from the primary: the comparison is the stack, not the replica.
    "FOLIO_SERVICES_POSTGRES_REPLICA_ENABLED": "false",
}


async def seed_shop_with_tasks(settings: Settings) -> tuple[uuid.UUID, str]:
    """A new shop with ``TASKS`` tasks and an owner's access token."""
    from folio.tasks import api as tasks

    async with open_database(settings.database, settings.database_url) as db:
        shop = await register_bench_shop(db, settings)
        for number in range(TASKS):
            await tasks.create_task(
                tasks.SqlAlchemyTaskUnitOfWork(db, settings),
                principal=shop.owner,
                data=tasks.TaskCreate(title=f"bench-synthetic-task-{number}", tags=["bench"]),
            )
    return shop.owner.tenant_id, shop.access_token


def _measure(url: str, label: str, headers: dict[str, str] | None = None) -> Measurement:
    return measure_http(url, label=label, seconds=SECONDS, connections=CONNECTIONS, headers=headers)


def run() -> BenchResult:
    """Seed one shop, then load each app in turn on the same PostgreSQL."""
    os.environ.update(FOLIO_ENV)
    settings = load_settings()
    upgrade(settings.database_migration_url)
    tenant_id, token = asyncio.run(seed_shop_with_tasks(settings))
    with serve_app("benchmarks.apps:folio_gateway", FOLIO_ENV) as base:
        folio = _measure(f"{base}/api/v1/tasks", "folio", {"Authorization": f"Bearer {token}"})
    with serve_app(
        "benchmarks.peers:bare_tasks", {**FOLIO_ENV, "FOLIO_BENCH_TENANT_ID": str(tenant_id)}
    ) as base:
        peer = _measure(f"{base}/tasks", "bare FastAPI")
    if folio.errors or peer.errors:
        raise RuntimeError(f"requests failed during the run: folio {folio.errors}, bare {peer.errors}")
    return BenchResult.comparing(
        __doc__,
        name=NAME,
        folio=folio,
        peer=peer,
        ratio_label="folio/bare req/s",
        parameters={
            "seconds": SECONDS,
            "connections": CONNECTIONS,
            "endpoint": "GET /api/v1/tasks (first page of 20, 200 tasks in the shop)",
            "database": "PostgreSQL 15 (primary), application role, row-level security",
            "load": "wrk -t2",
        },
    )
