"""Peer applications the benchmarks compare Folio against."""

from __future__ import annotations

import os
import uuid

from fastapi import FastAPI
from pydantic import BaseModel
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


# The least any shop's checkout must write: the conditional stock decrement and the order
# with its line in one transaction, then the order marked paid in a second one; on the
# same tables Folio's checkout writes.
TAKE_ONE_COPY = text(
    "UPDATE listings AS l SET stock = l.stock - 1, version = l.version + 1, updated_at = now() "
    "FROM works AS w WHERE l.id = :listing AND l.stock >= 1 AND w.id = l.work_id "
    "RETURNING l.work_id, l.price_cents, l.currency, w.title"
)
INSERT_ORDER = text(
    "INSERT INTO orders (id, tenant_id, customer_id, placed_by, idempotency_key, status, currency, "
    "total_minor, refunded_minor, stock_held, reserved_until, created_at, updated_at, version) "
    "VALUES (:id, :tenant, :customer, :customer, :key, 'pending_payment', :currency, :price, 0, true, "
    "now() + interval '15 minutes', now(), now(), 1)"
)
INSERT_LINE = text(
    "INSERT INTO order_lines (id, tenant_id, order_id, position, listing_id, work_id, title, quantity, "
    "unit_price_minor, currency) "
    "VALUES (:id, :tenant, :order, 0, :listing, :work, :title, 1, :price, :currency)"
)
MARK_PAID = text(
    "UPDATE orders SET status = 'paid', payment_reference = :reference, updated_at = now(), "
    "version = version + 1 WHERE id = :id AND status = 'pending_payment'"
)


class BareCheckout(BaseModel):
    """One copy of a listing for a customer (the bare checkout's body)."""

    listing_id: uuid.UUID
    customer_id: uuid.UUID


def bare_checkout() -> FastAPI:
    """Bare FastAPI selling one copy of a listing: the floor under Folio's checkout saga.

    ``POST /checkout`` with ``{"listing_id", "customer_id"}`` runs two transactions on
    the same tables as the same application role (row-level security applies): the
    stock taken on condition plus the order and its line, then the order marked paid.
    No authentication, cart, gRPC, payment API, outbox or webhook; the shop comes from
    ``FOLIO_BENCH_TENANT_ID``. A listing out of stock is a 409.
    """
    from fastapi import HTTPException
    from sqlalchemy.ext.asyncio import create_async_engine

    from folio.core.settings import load_settings

    settings = load_settings()
    tenant = str(uuid.UUID(os.environ["FOLIO_BENCH_TENANT_ID"]))
    engine = create_async_engine(settings.database_url, pool_size=settings.database.pool_size)
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/checkout", status_code=201)
    async def checkout(data: BareCheckout) -> dict[str, str]:
        order_id = uuid.uuid4()
        async with engine.begin() as connection:
            await connection.execute(SET_TENANT, {"tenant": tenant})
            taken = (await connection.execute(TAKE_ONE_COPY, {"listing": data.listing_id})).first()
            if taken is None:
                raise HTTPException(status_code=409, detail="out of stock")
            priced = {"tenant": tenant, "price": taken.price_cents, "currency": taken.currency}
            await connection.execute(
                INSERT_ORDER, {**priced, "id": order_id, "customer": data.customer_id, "key": str(order_id)}
            )
            line = {"id": uuid.uuid4(), "order": order_id, "listing": data.listing_id, "work": taken.work_id}
            await connection.execute(INSERT_LINE, {**priced, **line, "title": taken.title})
        async with engine.begin() as connection:
            await connection.execute(SET_TENANT, {"tenant": tenant})
            await connection.execute(MARK_PAID, {"id": order_id, "reference": f"bare_{order_id.hex}"})
        return {"id": str(order_id), "status": "paid"}

    return app
