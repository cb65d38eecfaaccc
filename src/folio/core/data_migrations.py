"""Per-tenant data migrations: what one is, the ledger of which ran for which shop, and the runner.

Alembic changes the schema once for everyone; a *data* migration rewrites each shop's
rows, one shop per transaction, and records itself in ``tenant_data_migrations`` in
that same transaction, so a run that crashes resumes where it stopped and never
applies a migration to a shop twice. ``folio tenants migrate`` drives it.

Key contracts:

- A ``DataMigration`` has a stable ``id`` (never reuse or rename one: the ledger
  knows it by that id) and an ``apply(session, tenant_id) -> rows touched``. It runs
  inside ``tenant_scope(tenant_id)`` as the application role, so on PostgreSQL
  row-level security confines it to that shop; on SQLite it must filter by
  ``tenant_id`` itself. Like any unit of work it may run more than once on a
  transient error, so it must touch nothing outside its session.
- Contexts declare their migrations (``DATA_MIGRATIONS`` in their ``api``);
  ``folio.bootstrap.data_migrations`` collects them. This module imports no context:
  the runner takes the shops and the migrations as arguments.
- Migrations run in the order given, each over every shop before the next starts;
  the first failure stops the run (everything committed before it stays recorded).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import String, Uuid, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from folio.core.columns import UtcDateTime, utcnow
from folio.core.db import Base, Database
from folio.core.tenancy import TenantOwned, tenant_filter, tenant_scope

__all__ = [
    "AppliedDataMigration",
    "DataMigration",
    "DataMigrationProgress",
    "MigrationOutcome",
    "PendingWork",
    "TenantTarget",
    "applied_migration_ids",
    "apply_data_migrations",
    "pending_data_migrations",
]


class AppliedDataMigration(TenantOwned, Base):
    """One data migration applied to one shop."""

    __tablename__ = "tenant_data_migrations"

    # Part of the primary key, as in the table: without it the ORM's identity map would
    # take two shops' rows for the same row.
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)

    migration_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    applied_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


ApplyFn = Callable[[AsyncSession, uuid.UUID], Awaitable[int]]
"""``apply(session, tenant_id) -> rows touched``: one shop's share of a data migration."""


@dataclass(frozen=True)
class DataMigration:
    """A rewrite of each shop's rows, applied once per shop.

    ``id`` is the ledger's key (at most 120 characters, by convention
    ``<context>.<NNNN>_<what>``, e.g. ``tasks.0001_normalise_tags``); ``apply`` follows
    the contract in the module docstring.
    """

    id: str
    description: str
    apply: ApplyFn

    def __post_init__(self) -> None:
        if not self.id or len(self.id) > 120:  # noqa: PLR2004 - the ledger column's width
            raise ValueError(f"a data migration id needs 1 to 120 characters, not {self.id!r}")


@dataclass(frozen=True)
class TenantTarget:
    """A shop to migrate: its id, and a label (its slug) for progress and reports."""

    id: uuid.UUID
    label: str


@dataclass(frozen=True)
class PendingWork:
    """One migration and the shops it has yet to run for."""

    migration: DataMigration
    tenants: tuple[TenantTarget, ...]


@dataclass(frozen=True)
class MigrationOutcome:
    """One migration applied to one shop, and how many rows it touched."""

    migration_id: str
    tenant: TenantTarget
    rows: int


class DataMigrationProgress(Protocol):
    """What the runner reports as it goes (the CLI draws it as progress bars)."""

    def begin(self, migration: DataMigration, total: int) -> None:
        """``migration`` is about to run for ``total`` shops."""

    def advance(self, migration: DataMigration, tenant: TenantTarget, rows: int | None) -> None:
        """``migration`` finished for ``tenant``; ``rows`` is None when another run had applied it."""


async def applied_migration_ids(db: Database, tenant_id: uuid.UUID) -> set[str]:
    """The ids of the data migrations the ledger records for the shop."""

    async def work(session: AsyncSession) -> set[str]:
        ids = await session.scalars(
            select(AppliedDataMigration.migration_id).where(tenant_filter(AppliedDataMigration))
        )
        return set(ids)

    with tenant_scope(tenant_id):
        # The primary, not the replica: a ledger read a moment stale would re-apply.
        return await db.run(work)


async def pending_data_migrations(
    db: Database, *, tenants: Sequence[TenantTarget], migrations: Sequence[DataMigration]
) -> list[PendingWork]:
    """For each migration, in order, the shops whose ledger does not record it yet.

    Migrations with nothing left to do are left out; raises ``ValueError`` when two
    migrations share an id.
    """
    ids = [migration.id for migration in migrations]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"data migration ids must be unique; repeated: {', '.join(duplicates)}")
    applied = {tenant.id: await applied_migration_ids(db, tenant.id) for tenant in tenants}
    work = [
        PendingWork(migration, tuple(t for t in tenants if migration.id not in applied[t.id]))
        for migration in migrations
    ]
    return [item for item in work if item.tenants]


async def _apply_one(db: Database, migration: DataMigration, tenant: TenantTarget) -> int | None:
    """Apply ``migration`` to one shop and record it, in one unit of work; None if already recorded."""

    async def work(session: AsyncSession) -> int | None:
        # Checked again inside the unit: another run may have applied it since the plan
        # was made. Two runs racing past this check both insert the ledger row; the
        # primary key refuses the second, whose whole unit (the rewrite too) rolls back.
        recorded = await session.scalar(
            select(AppliedDataMigration.migration_id).where(
                tenant_filter(AppliedDataMigration), AppliedDataMigration.migration_id == migration.id
            )
        )
        if recorded is not None:
            return None
        rows = await migration.apply(session, tenant.id)
        await session.execute(
            insert(AppliedDataMigration).values(
                tenant_id=tenant.id, migration_id=migration.id, applied_at=utcnow()
            )
        )
        return rows

    with tenant_scope(tenant.id):
        try:
            return await db.run(work)
        except IntegrityError:
            # Another run recorded it between our check and our insert; our unit (the
            # rewrite included) rolled back. Anything else is a real failure.
            if migration.id in await applied_migration_ids(db, tenant.id):
                return None
            raise


async def apply_data_migrations(
    db: Database,
    *,
    tenants: Sequence[TenantTarget],
    migrations: Sequence[DataMigration],
    progress: DataMigrationProgress | None = None,
) -> list[MigrationOutcome]:
    """Apply every pending migration to every shop that lacks it; return what was applied.

    Each (migration, shop) is one unit of work: the rewrite and its ledger row commit
    together. The first error propagates and stops the run; what committed before it
    stays recorded, so running again resumes with the rest and repeats nothing.
    """
    outcomes: list[MigrationOutcome] = []
    for item in await pending_data_migrations(db, tenants=tenants, migrations=migrations):
        if progress is not None:
            progress.begin(item.migration, len(item.tenants))
        for tenant in item.tenants:
            rows = await _apply_one(db, item.migration, tenant)
            if rows is not None:
                outcomes.append(MigrationOutcome(item.migration.id, tenant, rows))
            if progress is not None:
                progress.advance(item.migration, tenant, rows)
    return outcomes
