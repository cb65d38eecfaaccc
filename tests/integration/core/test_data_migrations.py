"""Per-tenant data migrations on both backends: once per shop, resumable after a crash, race-safe."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.data_migrations import (
    DataMigration,
    TenantTarget,
    applied_migration_ids,
    apply_data_migrations,
    pending_data_migrations,
)
from folio.core.db import Database
from folio.core.tenancy import tenant_filter, tenant_scope
from folio.usage.api import Meter, record_usage
from folio.usage.models import UsageDaily
from tests.support.identity import create_member

pytestmark = pytest.mark.integration

Apply = Callable[[AsyncSession, uuid.UUID], Awaitable[int]]


async def _shops(db: Database, count: int) -> list[TenantTarget]:
    shops = []
    for number in range(count):
        principal = await create_member(db)
        shops.append(TenantTarget(principal.tenant_id, f"shop-{number}"))
    return shops


def _bump(meter: Meter = Meter.STORAGE_BYTES, *, fail_for: uuid.UUID | None = None) -> Apply:
    """A migration body that adds 1 to the shop's meter (so applying twice would show 2)."""

    async def apply(session: AsyncSession, tenant_id: uuid.UUID) -> int:
        await record_usage(session, tenant_id=tenant_id, meter=meter)
        await session.flush()
        if tenant_id == fail_for:
            raise RuntimeError("the migration broke on this shop")
        return 1

    return apply


async def _bumps(db: Database, tenant_id: uuid.UUID, meter: Meter = Meter.STORAGE_BYTES) -> int:
    async def work(session: AsyncSession) -> int:
        total = await session.scalar(
            select(func.coalesce(func.sum(UsageDaily.quantity), 0)).where(
                tenant_filter(UsageDaily), UsageDaily.meter == meter.value
            )
        )
        return int(total or 0)

    with tenant_scope(tenant_id):
        return await db.run(work)


def _migration_id(name: str) -> str:
    return f"test.{name}_{uuid.uuid4().hex[:8]}"


class RecordingProgress:
    """Records what the runner reports."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, int | None]] = []

    def begin(self, migration: DataMigration, total: int) -> None:
        """A migration starts."""
        self.events.append(("begin", migration.id, total))

    def advance(self, migration: DataMigration, tenant: TenantTarget, rows: int | None) -> None:
        """A shop is done."""
        self.events.append((f"advance {migration.id}", tenant.label, rows))


async def test_applies_each_migration_once_per_shop(any_database: Database) -> None:
    """Every pending (migration, shop) runs once and is recorded; a second run does nothing."""
    shops = await _shops(any_database, 2)
    first = DataMigration(_migration_id("first"), "bump storage", _bump())
    second = DataMigration(_migration_id("second"), "bump tasks", _bump(Meter.TASKS))
    progress = RecordingProgress()
    outcomes = await apply_data_migrations(
        any_database, tenants=shops, migrations=[first, second], progress=progress
    )
    assert [(o.migration_id, o.tenant, o.rows) for o in outcomes] == [
        (first.id, shops[0], 1),
        (first.id, shops[1], 1),
        (second.id, shops[0], 1),
        (second.id, shops[1], 1),
    ]
    assert progress.events == [
        ("begin", first.id, 2),
        (f"advance {first.id}", "shop-0", 1),
        (f"advance {first.id}", "shop-1", 1),
        ("begin", second.id, 2),
        (f"advance {second.id}", "shop-0", 1),
        (f"advance {second.id}", "shop-1", 1),
    ]
    assert await apply_data_migrations(any_database, tenants=shops, migrations=[first, second]) == []
    for shop in shops:
        assert await applied_migration_ids(any_database, shop.id) == {first.id, second.id}
        assert await _bumps(any_database, shop.id) == 1
        assert await _bumps(any_database, shop.id, Meter.TASKS) == 1


async def test_crash_resumes_without_repeating(any_database: Database) -> None:
    """A migration failing on the 2nd shop leaves the 1st recorded; the re-run applies only the rest."""
    shops = await _shops(any_database, 3)
    migration_id = _migration_id("crashy")
    broken = DataMigration(migration_id, "breaks on shop 2", _bump(fail_for=shops[1].id))
    with pytest.raises(RuntimeError, match="broke on this shop"):
        await apply_data_migrations(any_database, tenants=shops, migrations=[broken])
    assert [await applied_migration_ids(any_database, shop.id) for shop in shops] == [
        {migration_id},
        set(),
        set(),
    ]
    # The failing shop's partial rewrite rolled back with its missing ledger row.
    assert [await _bumps(any_database, shop.id) for shop in shops] == [1, 0, 0]

    fixed = DataMigration(migration_id, "fixed", _bump())
    [pending] = await pending_data_migrations(any_database, tenants=shops, migrations=[fixed])
    assert pending.tenants == (shops[1], shops[2])
    outcomes = await apply_data_migrations(any_database, tenants=shops, migrations=[fixed])
    assert [o.tenant for o in outcomes] == [shops[1], shops[2]]
    assert [await _bumps(any_database, shop.id) for shop in shops] == [1, 1, 1]


async def test_pending_lists_only_unapplied_work(any_database: Database) -> None:
    """The plan names each migration with the shops still lacking it, and omits finished ones."""
    shops = await _shops(any_database, 2)
    done = DataMigration(_migration_id("done"), "already applied", _bump())
    await apply_data_migrations(any_database, tenants=shops[:1], migrations=[done])
    fresh = DataMigration(_migration_id("fresh"), "new", _bump(Meter.TASKS))
    plan = await pending_data_migrations(any_database, tenants=shops, migrations=[done, fresh])
    assert [(p.migration.id, p.tenants) for p in plan] == [(done.id, (shops[1],)), (fresh.id, tuple(shops))]
    assert await pending_data_migrations(any_database, tenants=shops[:1], migrations=[done]) == []


async def test_duplicate_ids_are_refused(any_database: Database) -> None:
    """Two migrations with one id would share a ledger row: refused before anything runs."""
    same = _migration_id("twice")
    with pytest.raises(ValueError, match="unique"):
        await pending_data_migrations(
            any_database,
            tenants=[],
            migrations=[DataMigration(same, "a", _bump()), DataMigration(same, "b", _bump())],
        )


def test_migration_id_must_fit_the_ledger() -> None:
    """An empty id or one over 120 characters is refused when declared."""
    for bad in ("", "x" * 121):
        with pytest.raises(ValueError, match="1 to 120"):
            DataMigration(bad, "bad", _bump())


async def test_concurrent_runs_apply_once(pg_database: Database) -> None:
    """Two runs racing over the same shops apply each migration to each shop exactly once."""
    shops = await _shops(pg_database, 3)
    migration = DataMigration(_migration_id("race"), "raced", _bump())
    first, second = await asyncio.gather(
        apply_data_migrations(pg_database, tenants=shops, migrations=[migration]),
        apply_data_migrations(pg_database, tenants=shops, migrations=[migration]),
    )
    assert sorted(o.tenant.label for o in [*first, *second]) == ["shop-0", "shop-1", "shop-2"]
    assert [await _bumps(pg_database, shop.id) for shop in shops] == [1, 1, 1]
