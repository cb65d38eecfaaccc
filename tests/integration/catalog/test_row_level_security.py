"""At the SQL level, as the application role: one shop's scope sees and writes none of another's listings."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from folio.catalog.api import ListingCreate, create_listing
from folio.core.db import Database
from folio.core.settings import Settings
from folio.core.tenancy import tenant_scope
from tests.integration.catalog.conftest import published_work
from tests.support.identity import create_member

pytestmark = pytest.mark.integration


async def test_raw_sql_sees_only_the_scoped_shops_listings(pg_database: Database, settings: Settings) -> None:
    """``SELECT * FROM listings`` in B's scope returns B's rows only; B cannot update or plant A's rows."""
    shop_a = await create_member(pg_database)
    shop_b = await create_member(pg_database)
    work = await published_work(pg_database, shop_a, "RLS Work")
    a_listing = await create_listing(
        pg_database,
        settings=settings,
        principal=shop_a,
        data=ListingCreate(work_id=work.id, price_cents=1, currency="EUR"),
    )
    b_listing = await create_listing(
        pg_database,
        settings=settings,
        principal=shop_b,
        data=ListingCreate(work_id=work.id, price_cents=2, currency="EUR"),
    )

    async def select_all(session: AsyncSession) -> list[tuple[uuid.UUID, uuid.UUID]]:
        rows = await session.execute(text("SELECT id, tenant_id FROM listings"))
        return [(row[0], row[1]) for row in rows]

    with tenant_scope(shop_b.tenant_id):
        assert await pg_database.run(select_all) == [(b_listing.id, shop_b.tenant_id)]
    assert await pg_database.run(select_all) == []

    async def hijack(session: AsyncSession) -> int:
        result = await session.execute(
            text("UPDATE listings SET price_cents = 1 WHERE id = :id"), {"id": a_listing.id}
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    with tenant_scope(shop_b.tenant_id):
        assert await pg_database.run(hijack) == 0

    async def plant(session: AsyncSession) -> None:
        await session.execute(
            text(
                "INSERT INTO listings (id, tenant_id, work_id, price_cents, currency, stock, condition,"
                " created_by, created_at, updated_at, version)"
                " VALUES (:id, :tenant, :work, 1, 'EUR', 0, 'good', :by, now(), now(), 1)"
            ),
            {"id": uuid.uuid4(), "tenant": shop_a.tenant_id, "work": work.id, "by": shop_b.user_id},
        )

    with tenant_scope(shop_b.tenant_id), pytest.raises(DBAPIError, match="row-level security"):
        await pg_database.run(plant)
