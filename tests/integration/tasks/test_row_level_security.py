"""J4 at the SQL level: as the application role, one shop's scope reads and writes none of another's tasks."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import Database
from folio.core.settings import Settings
from folio.core.tenancy import tenant_scope
from folio.tasks.api import SqlAlchemyTaskUnitOfWork, TaskCreate, create_task
from tests.support.identity import create_member

pytestmark = pytest.mark.integration


async def test_raw_sql_as_app_role_sees_only_the_scoped_shop(
    pg_database: Database, settings: Settings, require_service: Callable[[str], None]
) -> None:
    """``SELECT * FROM tasks`` in shop B's scope returns B's rows only, and none outside any scope."""
    require_service("postgres")
    uow = SqlAlchemyTaskUnitOfWork(pg_database, settings)
    shop_a = await create_member(pg_database)
    shop_b = await create_member(pg_database)
    a_ids = set()
    for i in range(3):
        task = await create_task(uow, principal=shop_a, data=TaskCreate(title=f"A{i}"))
        a_ids.add(task.id)
    b_task = await create_task(uow, principal=shop_b, data=TaskCreate(title="B"))

    async def select_all(session: AsyncSession) -> list[tuple[uuid.UUID, uuid.UUID]]:
        rows = await session.execute(text("SELECT id, tenant_id FROM tasks"))
        return [(row[0], row[1]) for row in rows]

    with tenant_scope(shop_b.tenant_id):
        seen_by_b = await pg_database.run(select_all)
    assert seen_by_b == [(b_task.id, shop_b.tenant_id)]
    assert await pg_database.run(select_all) == []

    async def hijack(session: AsyncSession) -> int:
        result = await session.execute(
            text("UPDATE tasks SET title = 'stolen' WHERE id = ANY(:ids)"), {"ids": list(a_ids)}
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    with tenant_scope(shop_b.tenant_id):
        assert await pg_database.run(hijack) == 0

    async def plant(session: AsyncSession) -> None:
        await session.execute(
            text(
                "INSERT INTO tasks (id, tenant_id, title, notes, status, priority, tags, created_by,"
                " created_at, updated_at, version) VALUES (:id, :tenant, 'planted', '', 'todo', 'normal',"
                " '[]', :by, now(), now(), 1)"
            ),
            {"id": uuid.uuid4(), "tenant": shop_a.tenant_id, "by": shop_b.user_id},
        )

    with tenant_scope(shop_b.tenant_id), pytest.raises(DBAPIError, match="row-level security"):
        await pg_database.run(plant)
