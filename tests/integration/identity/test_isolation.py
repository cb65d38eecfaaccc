"""Row-level security on identity's tenant tables: the application role sees only its shop's rows."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import Database
from folio.core.security import Role
from folio.core.settings import Settings
from folio.core.tenancy import tenant_scope
from folio.identity.api import ApiKeyCreate, create_api_key
from tests.integration.identity.conftest import new_shop

pytestmark = pytest.mark.integration


async def _count(db: Database, table: str, tenant: uuid.UUID | None) -> tuple[int, int]:
    """(rows seen, other shops' rows seen) in ``table`` with ``tenant`` in scope, by raw SQL."""

    async def work(session: AsyncSession) -> tuple[int, int]:
        total = await session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608 - fixed table names
        foreign = await session.scalar(
            text(f"SELECT count(*) FROM {table} WHERE tenant_id <> :tenant"),  # noqa: S608 - fixed table names
            {"tenant": tenant or uuid.uuid4()},
        )
        return int(total or 0), int(foreign or 0)

    if tenant is None:
        return await db.run(work)
    with tenant_scope(tenant):
        return await db.run(work)


@pytest.mark.parametrize("table", ["identity_memberships", "identity_api_keys"])
async def test_the_app_role_sees_no_other_shops_rows(
    pg_database: Database, identity_settings: Settings, table: str
) -> None:
    """In shop A's scope a raw SELECT sees A's rows only; outside any scope it sees none."""
    shop_a = await new_shop(pg_database, identity_settings)
    shop_b = await new_shop(pg_database, identity_settings)
    for shop in (shop_a, shop_b):
        await create_api_key(pg_database, principal=shop.owner, data=ApiKeyCreate(name="k", role=Role.STAFF))
    assert await _count(pg_database, table, shop_a.tenant_id) == (1, 0)
    assert await _count(pg_database, table, None) == (0, 0)
