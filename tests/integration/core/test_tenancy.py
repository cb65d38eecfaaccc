"""Tenant isolation against real databases: row-level security on PostgreSQL, filters on SQLite.

On PostgreSQL the table is made the way a context's migration makes it: created by
the owner role, then ``enable_tenant_isolation``. Everything else runs as the
application role through ``Database``, with raw SQL where it matters, because the
promise is that no query the application role can write sees another shop's rows.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, Uuid, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool

from folio.core.db import Database, open_database
from folio.core.errors import TenantRequiredError
from folio.core.migrations import MigrationRoleError, check_version_table_owner
from folio.core.settings import Settings
from folio.core.tenancy import TenantOwned, enable_tenant_isolation, tenant_filter, tenant_scope

pytestmark = pytest.mark.integration

SHOP_A = uuid.uuid4()
SHOP_B = uuid.uuid4()
INSUFFICIENT_PRIVILEGE = "42501"
REPLICATION_WAIT_S = 10.0


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)


# --- PostgreSQL: row-level security ----------------------------------------------------------


@pytest.fixture
async def owner(settings: Settings, require_service: Callable[[str], None]) -> AsyncIterator[AsyncEngine]:
    """An engine connected as the owner role, the one migrations run as."""
    require_service("postgres")
    engine = create_async_engine(settings.services.postgres.url(role="owner"), poolclass=NullPool)
    yield engine
    await engine.dispose()


@pytest.fixture
async def ledger(owner: AsyncEngine) -> AsyncIterator[Table]:
    """A throwaway tenant table the owner creates and isolates, as a migration would; dropped after.

    No GRANT here: the application role may use it through the owner's default privileges.
    """
    table = Table(
        f"test_tenancy_{uuid.uuid4().hex[:12]}",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("tenant_id", Uuid, nullable=False, index=True),
        Column("body", String(200), nullable=False),
    )
    async with owner.begin() as connection:
        await connection.run_sync(table.metadata.create_all)
        await connection.run_sync(lambda sync: enable_tenant_isolation(table.name, bind=sync))
    yield table
    async with owner.begin() as connection:
        await connection.run_sync(table.metadata.drop_all)


@pytest.fixture
async def app_db(settings: Settings, require_service: Callable[[str], None]) -> AsyncIterator[Database]:
    """A ``Database`` as the application role on the primary and replica, one pooled connection.

    A single connection proves the tenant setting does not outlive its transaction: every
    unit of work reuses the connection the previous one left.
    """
    require_service("postgres")
    pg = settings.services.postgres
    db_settings = settings.database.model_copy(update={"pool_size": 1, "max_overflow": 0})
    async with open_database(
        db_settings, pg.url(), pg.url(replica=True) if pg.replica_enabled else None
    ) as db:
        yield db


async def _add(db: Database, table: Table, tenant: uuid.UUID, *bodies: str) -> None:
    async def work(session: AsyncSession) -> None:
        await session.execute(insert(table), [{"tenant_id": tenant, "body": body} for body in bodies])

    await db.run(work)


async def _raw_rows(db: Database, table: Table, *, readonly: bool = False) -> list[tuple[uuid.UUID, str]]:
    """Every row a raw ``SELECT *`` returns to the application role, as (tenant_id, body)."""

    async def work(session: AsyncSession) -> list[tuple[uuid.UUID, str]]:
        result = await session.execute(text(f"SELECT * FROM {table.name} ORDER BY id"))  # noqa: S608 - our own name
        return [(row.tenant_id, row.body) for row in result]

    return await db.run(work, readonly=readonly)


@pytest.fixture
async def two_shops(app_db: Database, ledger: Table) -> Table:
    """The ledger with two rows of shop A and one of shop B, each written in its own scope."""
    with tenant_scope(SHOP_A):
        await _add(app_db, ledger, SHOP_A, "a1", "a2")
    with tenant_scope(SHOP_B):
        await _add(app_db, ledger, SHOP_B, "b1")
    return ledger


async def test_raw_query_sees_only_the_scoped_tenants_rows(app_db: Database, two_shops: Table) -> None:
    """The app role's raw ``SELECT *`` returns shop A's rows under A's scope and B's under B's."""
    with tenant_scope(SHOP_A):
        assert await _raw_rows(app_db, two_shops) == [(SHOP_A, "a1"), (SHOP_A, "a2")]
    with tenant_scope(SHOP_B):
        assert await _raw_rows(app_db, two_shops) == [(SHOP_B, "b1")]


async def test_no_tenant_in_scope_sees_and_writes_nothing(app_db: Database, two_shops: Table) -> None:
    """Outside any scope a raw query returns no row and an insert is refused by the policy."""
    assert await _raw_rows(app_db, two_shops) == []
    with pytest.raises(DBAPIError, match="row-level security") as caught:
        await _add(app_db, two_shops, SHOP_A, "orphan")
    assert _sqlstate(caught.value) == INSUFFICIENT_PRIVILEGE


async def test_writing_another_tenants_row_is_refused(app_db: Database, two_shops: Table) -> None:
    """Under A's scope, inserting a row for B, or moving A's row to B, violates WITH CHECK."""
    with tenant_scope(SHOP_A):
        with pytest.raises(DBAPIError, match="new row violates row-level security policy") as caught:
            await _add(app_db, two_shops, SHOP_B, "smuggled")
        assert _sqlstate(caught.value) == INSUFFICIENT_PRIVILEGE

        async def move(session: AsyncSession) -> None:
            await session.execute(two_shops.update().values(tenant_id=SHOP_B))

        with pytest.raises(DBAPIError, match="row-level security"):
            await app_db.run(move)
    with tenant_scope(SHOP_B):
        assert await _raw_rows(app_db, two_shops) == [(SHOP_B, "b1")]


async def test_app_role_can_neither_bypass_nor_disable_row_level_security(
    app_db: Database, ledger: Table
) -> None:
    """The app role is not superuser or BYPASSRLS, cannot turn row_security off, nor ALTER the table."""

    async def attributes(session: AsyncSession) -> tuple[bool, bool]:
        row = (
            await session.execute(
                text("SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user")
            )
        ).one()
        return row.rolbypassrls, row.rolsuper

    assert await app_db.run(attributes) == (False, False)

    async def without_row_security(session: AsyncSession) -> None:
        # With row_security off, a query a policy would filter fails instead of bypassing it.
        await session.execute(text("SET LOCAL row_security = off"))
        await session.execute(text(f"SELECT * FROM {ledger.name}"))  # noqa: S608 - our own name

    with pytest.raises(DBAPIError, match="row-level security") as refused:
        await app_db.run(without_row_security)
    assert _sqlstate(refused.value) == INSUFFICIENT_PRIVILEGE

    for statement in ("DISABLE ROW LEVEL SECURITY", "NO FORCE ROW LEVEL SECURITY"):

        async def alter(session: AsyncSession, statement: str = statement) -> None:
            await session.execute(text(f"ALTER TABLE {ledger.name} {statement}"))

        with pytest.raises(DBAPIError, match="must be owner") as caught:
            await app_db.run(alter)
        assert _sqlstate(caught.value) == INSUFFICIENT_PRIVILEGE


async def test_forced_policy_binds_the_owner_too(
    owner: AsyncEngine, app_db: Database, two_shops: Table
) -> None:
    """FORCE: even the owner role sees no row until it sets a tenant for its transaction."""
    async with owner.begin() as connection:
        assert (await connection.execute(text(f"SELECT * FROM {two_shops.name}"))).all() == []  # noqa: S608
        await connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(SHOP_B)})
        rows = (await connection.execute(text(f"SELECT body FROM {two_shops.name}"))).scalars().all()  # noqa: S608
    assert rows == ["b1"]


async def _setting_and_backend(connection: AsyncConnection | AsyncSession) -> tuple[str | None, int]:
    """The transaction's ``app.tenant_id`` and the server process of the connection."""
    row = (
        await connection.execute(
            text("SELECT current_setting('app.tenant_id', true) AS tenant, pg_backend_pid() AS pid")
        )
    ).one()
    return row.tenant, row.pid


async def test_tenant_setting_ends_with_its_transaction(app_db: Database, two_shops: Table) -> None:
    """On the very connection that carried A's setting, the next transaction has none and sees no rows."""
    with tenant_scope(SHOP_A):
        inside, first_pid = await app_db.run(_setting_and_backend)
    # A bare connection, past TenantSession: only transaction-locality can have cleared it.
    async with app_db.primary.connect() as connection:
        after, second_pid = await _setting_and_backend(connection)
        rows = (await connection.execute(text(f"SELECT * FROM {two_shops.name}"))).all()  # noqa: S608

    assert inside == str(SHOP_A)
    assert second_pid == first_pid
    assert after in {None, ""}
    assert rows == []


async def test_unscoped_sessions_ignore_a_session_wide_tenant(app_db: Database, two_shops: Table) -> None:
    """A tenant someone set session-wide on a pooled connection does not leak into unscoped sessions."""
    async with app_db.primary.connect() as connection:
        await connection.execute(text("SELECT set_config('app.tenant_id', :t, false)"), {"t": str(SHOP_B)})
        await connection.commit()
        query = text(f"SELECT body FROM {two_shops.name}")  # noqa: S608 - our own table name
        assert (await connection.execute(query)).scalars().all() == ["b1"]

    setting, _ = await app_db.run(_setting_and_backend)
    assert setting == ""
    assert await _raw_rows(app_db, two_shops) == []


async def test_replica_enforces_the_same_policy(app_db: Database, two_shops: Table) -> None:
    """Readonly units on the streaming replica see only the scoped tenant's rows, and none unscoped."""
    assert app_db.replica is not None, "the shared PostgreSQL runs with its replica"

    async def in_recovery(session: AsyncSession) -> bool:
        return bool(await session.scalar(text("SELECT pg_is_in_recovery()")))

    assert await app_db.run(in_recovery, readonly=True)
    with tenant_scope(SHOP_A):
        seen: list[tuple[uuid.UUID, str]] = []
        for _ in range(int(REPLICATION_WAIT_S / 0.05)):
            try:
                seen = await _raw_rows(app_db, two_shops, readonly=True)
            except DBAPIError:  # the replica has not replayed the CREATE TABLE yet
                seen = []
            if len(seen) == 2:
                break
            await asyncio.sleep(0.05)
    assert seen == [(SHOP_A, "a1"), (SHOP_A, "a2")]
    assert await _raw_rows(app_db, two_shops, readonly=True) == []


async def test_migrations_refuse_a_version_table_another_role_owns(
    owner: AsyncEngine, settings: Settings
) -> None:
    """An alembic_version the app role owns (migrated before the owner did) stops migrations, clearly."""
    schema = f"test_migrations_{uuid.uuid4().hex[:12]}"
    app = settings.services.postgres.app_user
    async with owner.begin() as connection:
        await connection.execute(text(f"CREATE SCHEMA {schema}"))
        await connection.execute(text(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {app}"))
    app_engine = create_async_engine(settings.services.postgres.url(), poolclass=NullPool)
    try:
        async with owner.connect() as connection:
            await connection.execute(text(f"SET search_path TO {schema}"))
            await connection.run_sync(check_version_table_owner)  # no version table yet: fine
            async with app_engine.begin() as as_app:
                await as_app.execute(text(f"CREATE TABLE {schema}.alembic_version (version_num varchar(32))"))
            with pytest.raises(
                MigrationRoleError,
                match=f"owned by {app}, but migrations run as {settings.services.postgres.owner_user}",
            ):
                await connection.run_sync(check_version_table_owner)
    finally:
        await app_engine.dispose()
        async with owner.begin() as connection:
            # The schema's owner may drop it with everything in it, whoever owns that.
            await connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


# --- SQLite: the repositories filter ----------------------------------------------------------


class _Base(DeclarativeBase):
    pass


class Note(TenantOwned, _Base):
    """A tenant-owned model, queried the way a context's repository queries."""

    __tablename__ = "tenancy_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str]


@pytest.fixture
async def sqlite_db(settings: Settings, tmp_path: Path) -> AsyncIterator[Database]:
    """A SQLite file with the notes table and one note per shop, each written in its scope."""
    async with open_database(settings.database, f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}") as db:
        async with db.primary.begin() as connection:
            await connection.run_sync(_Base.metadata.create_all)
        for shop, body in ((SHOP_A, "a1"), (SHOP_B, "b1")):
            with tenant_scope(shop):

                async def work(session: AsyncSession, shop: uuid.UUID = shop, body: str = body) -> None:
                    session.add(Note(tenant_id=shop, body=body))

                await db.run(work)
        yield db


async def _filtered_bodies(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(Note.body).where(tenant_filter(Note)).order_by(Note.id))).all())


async def test_sqlite_repositories_filter_by_the_tenant_in_scope(sqlite_db: Database) -> None:
    """On SQLite the repository filter returns only the scoped shop's rows, and refuses to run unscoped."""
    with tenant_scope(SHOP_A):
        assert await sqlite_db.run(_filtered_bodies, readonly=True) == ["a1"]
    with tenant_scope(SHOP_B):
        assert await sqlite_db.run(_filtered_bodies, readonly=True) == ["b1"]
    with pytest.raises(TenantRequiredError):
        await sqlite_db.run(_filtered_bodies, readonly=True)


async def test_sqlite_has_no_guarantee_beyond_the_filter(sqlite_db: Database) -> None:
    """A raw query on SQLite sees every shop's rows: the embedded mode is for one shop on a laptop."""

    async def raw(session: AsyncSession) -> list[str]:
        return list((await session.scalars(text("SELECT body FROM tenancy_notes ORDER BY id"))).all())

    with tenant_scope(SHOP_A):
        assert await sqlite_db.run(raw, readonly=True) == ["a1", "b1"]
