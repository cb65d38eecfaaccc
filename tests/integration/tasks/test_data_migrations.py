"""``tasks.0001_normalise_tags`` cleans tags written before normalisation, once per shop, on both backends."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.api import list_events
from folio.core.data_migrations import TenantTarget, apply_data_migrations
from folio.core.db import Database
from folio.core.settings import Settings
from folio.core.tenancy import tenant_scope
from folio.tasks.api import TaskCreate, TaskUnitOfWork, create_task, get_task
from folio.tasks.data_migrations import NORMALISE_TAGS
from folio.tasks.models import Task
from tests.support.identity import create_member

pytestmark = pytest.mark.integration


async def _write_raw_tags(db: Database, tenant_id: uuid.UUID, task_id: uuid.UUID, tags: object) -> None:
    """Store ``tags`` as an old version would have, bypassing validation."""

    async def work(session: AsyncSession) -> None:
        await session.execute(update(Task).where(Task.id == task_id).values(tags=tags))

    with tenant_scope(tenant_id):
        await db.run(work)


async def test_migration_cleans_each_shop_once(
    any_database: Database, uow: TaskUnitOfWork, settings: Settings
) -> None:
    """Dirty tags are cleaned (new version, audited), clean rows untouched, and a re-run does nothing."""
    shop_a = await create_member(any_database)
    shop_b = await create_member(any_database)
    dirty = await create_task(uow, principal=shop_a, data=TaskCreate(title="dirty"))
    tidy = await create_task(uow, principal=shop_a, data=TaskCreate(title="tidy", tags=["fine"]))
    other = await create_task(uow, principal=shop_b, data=TaskCreate(title="b"))
    await _write_raw_tags(any_database, shop_a.tenant_id, dirty.id, [" Orders ", "ORDERS", "", "Kids"])
    await _write_raw_tags(any_database, shop_b.tenant_id, other.id, ["B "])
    shops = [TenantTarget(shop_a.tenant_id, "a"), TenantTarget(shop_b.tenant_id, "b")]

    outcomes = await apply_data_migrations(any_database, tenants=shops, migrations=[NORMALISE_TAGS])
    assert sorted((outcome.tenant.label, outcome.rows) for outcome in outcomes) == [("a", 1), ("b", 1)]
    cleaned = await get_task(uow, principal=shop_a, task_id=dirty.id)
    assert (cleaned.tags, cleaned.version) == (["orders", "kids"], 2)
    assert (await get_task(uow, principal=shop_a, task_id=tidy.id)).version == 1
    assert (await get_task(uow, principal=shop_b, task_id=other.id)).tags == ["b"]
    events = await list_events(
        any_database, settings=settings, principal=shop_a, action="tasks.tags_normalised"
    )
    assert [event.after for event in events.items] == [{"tasks_changed": 1}]

    assert await apply_data_migrations(any_database, tenants=shops, migrations=[NORMALISE_TAGS]) == []
