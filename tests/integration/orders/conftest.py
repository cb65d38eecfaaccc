"""Fixtures for the orders integration tests: a shop with a listing, and its people; the checkout's rig.

As in tests/integration/tasks: ``pg_database`` uses the primary only (a read right
after a write must not race the replica's replay).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI

from folio.bootstrap import build_platform
from folio.catalog.api import ListingCreate, ListingRead, WorkCreate, create_listing, create_work
from folio.core.db import Database, open_database
from folio.core.ratelimit import RateLimiter
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.entrypoints.gateway.app import create_app
from folio.orders.api import OrdersClient
from tests.conftest import free_port
from tests.integration.grpckit.conftest import start_pair, stop_all
from tests.support.identity import create_member


@pytest.fixture
async def pg_database(migrated_postgres: Settings) -> AsyncIterator[Database]:
    """A ``Database`` on the migrated PostgreSQL primary, as the application role (RLS applies)."""
    async with open_database(migrated_postgres.database, migrated_postgres.database_url) as database:
        yield database


@dataclass(frozen=True)
class Shop:
    """A shop's owner, one staff member and one customer."""

    owner: Principal
    staff: Principal
    customer: Principal
    settings: Settings

    @property
    def tenant_id(self) -> uuid.UUID:
        """The shop's id."""
        return self.owner.tenant_id


async def new_shop(db: Database, settings: Settings) -> Shop:
    """A new shop with its owner, a staff member and a customer."""
    owner = await create_member(db)
    return Shop(
        settings=settings,
        owner=owner,
        staff=await create_member(db, role=Role.STAFF, tenant_id=owner.tenant_id),
        customer=await create_member(db, role=Role.CUSTOMER, tenant_id=owner.tenant_id),
    )


async def new_listing(
    db: Database,
    shop: Shop,
    *,
    price: int = 1250,
    stock: int = 5,
    currency: str = "EUR",
    title: str = "Hamlet",
) -> ListingRead:
    """A listing of a new (private) work in ``shop``."""
    work = await create_work(
        db, principal=shop.staff, data=WorkCreate(title=title, authors=["William Shakespeare"])
    )
    return await create_listing(
        db,
        settings=shop.settings,
        principal=shop.staff,
        data=ListingCreate(
            work_id=work.id, price_cents=price, currency=currency, stock=stock, condition="good"
        ),
    )


@pytest.fixture
async def shop(any_database: Database, settings: Settings) -> Shop:
    """A new shop on the database under test (both backends)."""
    return await new_shop(any_database, settings)


@dataclass
class Rig:
    """The checkout's whole path in-process: the gateway on a loopback port and the users/orders pair.

    The gateway (``/api/v1``, payments' ``/stripe`` and the hosted pay page) is served by
    uvicorn on the test's own loop; the orders gRPC server's payment provider is the
    official ``stripe`` library pointed at it, and the shops' payment events are POSTed
    to its payment-events route, as on a ``folio up``.
    """

    url: str
    settings: Settings
    db: Database
    orders: OrdersClient


@asynccontextmanager
async def serving(app: FastAPI, port: int) -> AsyncIterator[None]:
    """Serve ``app`` (its lifespan already running) with uvicorn on ``port`` of the loopback, on this loop."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", log_config=None
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def rig(
    migrated_postgres: Settings, pg_database: Database, redis_limiter: RateLimiter
) -> AsyncIterator[Rig]:
    """The gateway served on a free port, the pair dialling it for payments and it dialling the pair."""
    port = free_port()
    settings = migrated_postgres.model_copy(
        update={"gateway": migrated_postgres.gateway.model_copy(update={"host": "127.0.0.1", "port": port})}
    )
    url = settings.gateway.url
    pair, parts = await start_pair(settings, pg_database)
    try:
        platform = build_platform(pair.settings, database=pg_database, rate_limiter=redis_limiter)
        app = create_app(pair.settings, platform=platform)
        async with app.router.lifespan_context(app), serving(app, port):
            yield Rig(url=url, settings=pair.settings, db=pg_database, orders=pair.orders)
        await platform.aclose()
    finally:
        await stop_all(parts)
