"""Peer applications the benchmarks compare Folio against."""

from __future__ import annotations

import os

from fastapi import FastAPI
from sqlalchemy import text

# The statements Folio's tasks API runs for `GET /api/v1/tasks` (first page, default sort).
SET_TENANT = text("SELECT set_config('app.tenant_id', :tenant, true)")
COUNT_TASKS = text("SELECT count(*) FROM tasks WHERE tenant_id = :tenant")
PAGE_OF_TASKS = text(
    "SELECT id, title, notes, status, priority, due_date, tags, assignee_id, created_by, "
    "created_at, updated_at, version FROM tasks WHERE tenant_id = :tenant "
    "ORDER BY created_at DESC, id DESC LIMIT 20"
)


def bare_fastapi() -> FastAPI:
    """FastAPI with no middleware, answering /healthz like Folio's gateway does."""
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "gateway", "version": "0.1.0"}

    return app


def bare_tasks() -> FastAPI:
    """Bare FastAPI listing one shop's tasks with the same SQL Folio's tasks API runs.

    No authentication, rate limiting, tenancy resolution, metering or logging: the shop
    comes from ``FOLIO_BENCH_TENANT_ID``. It connects as the same application role
    (so row-level security still applies to its queries) through the same driver.
    """
    import uuid

    from sqlalchemy.ext.asyncio import create_async_engine

    from folio.core.settings import load_settings

    settings = load_settings()
    tenant = str(uuid.UUID(os.environ["FOLIO_BENCH_TENANT_ID"]))
    engine = create_async_engine(settings.database_url, pool_size=settings.database.pool_size)
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/tasks")
    async def list_tasks() -> dict[str, object]:
        async with engine.begin() as connection:
            await connection.execute(SET_TENANT, {"tenant": tenant})
            total = (await connection.execute(COUNT_TASKS, {"tenant": tenant})).scalar_one()
            rows = (await connection.execute(PAGE_OF_TASKS, {"tenant": tenant})).mappings().all()
        items = [{**row, "id": str(row["id"])} for row in rows]
        return {"items": jsonable(items), "total": total, "page": 1, "per_page": 20}

    return app


def jsonable(value: object) -> object:
    """``value`` with dates, UUIDs and the like turned into JSON types (as FastAPI would)."""
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(value)
