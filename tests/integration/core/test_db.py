"""The database layer against real databases: SQLite on disk and the local PostgreSQL pair."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, event, func, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from folio.core.db import Database, _sqlite_pragmas, open_database
from folio.core.settings import Settings

pytestmark = pytest.mark.integration

BACKENDS = ["sqlite", "postgres"]
REPLICATION_WAIT_S = 10.0


@dataclass
class Target:
    """Where one parametrised test runs: the URLs and the backend's name."""

    backend: str
    url: str
    replica_url: str | None
    ddl_url: str
    """Where tables are created: the owner role on PostgreSQL (the app role may not)."""


@pytest.fixture(params=BACKENDS)
def target(
    request: pytest.FixtureRequest, settings: Settings, require_service: Callable[[str], None], tmp_path: Path
) -> Target:
    """A SQLite file in the test's folder, or the running PostgreSQL primary and replica."""
    backend: str = request.param
    if backend == "postgres":
        require_service("postgres")
        pg = settings.services.postgres
        replica_url = pg.url(replica=True) if pg.replica_enabled else None
        return Target(backend, pg.url(), replica_url, pg.url(role="owner"))
    url = f"sqlite+aiosqlite:///{tmp_path / 'folio-test.db'}"
    return Target(backend, url, None, url)


@pytest.fixture
async def database(target: Target, settings: Settings) -> AsyncIterator[Database]:
    """A ``Database`` on the target, disposed afterwards."""
    async with open_database(settings.database, target.url, target.replica_url) as db:
        yield db


@asynccontextmanager
async def _ddl(target: Target) -> AsyncIterator[AsyncConnection]:
    """A transaction as the role that may change the schema (the owner on PostgreSQL)."""
    engine = create_async_engine(target.ddl_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            yield connection
    finally:
        await engine.dispose()


@pytest.fixture
async def notes(database: Database, target: Target) -> AsyncIterator[Table]:
    """A throwaway table with a unique name on its own metadata, dropped afterwards."""
    metadata = MetaData()
    table = Table(
        f"test_notes_{uuid.uuid4().hex[:12]}",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("body", String(200), nullable=False),
    )
    async with _ddl(target) as connection:
        await connection.run_sync(metadata.create_all)
    yield table
    async with _ddl(target) as connection:
        await connection.run_sync(metadata.drop_all)


async def bodies(database: Database, table: Table, *, readonly: bool = False) -> list[str]:
    """The ``body`` of every row of ``table``, read in a fresh session."""
    async with database.sessions(readonly=readonly)() as session:
        result = await session.execute(select(table.c.body).order_by(table.c.id))
        return list(result.scalars())


# --- the unit of work --------------------------------------------------------------------------


async def test_commit_persists(database: Database, notes: Table) -> None:
    """Work committed inside the unit of work is there for the next session."""
    async with database.unit_of_work() as uow:
        await uow.session.execute(insert(notes).values(body="kept"))
        await uow.commit()

    assert await bodies(database, notes) == ["kept"]


async def test_leaving_without_commit_rolls_back(database: Database, notes: Table) -> None:
    """Leaving the block without ``commit`` discards the work."""
    async with database.unit_of_work() as uow:
        await uow.session.execute(insert(notes).values(body="discarded"))
        await uow.session.flush()

    assert await bodies(database, notes) == []


async def test_exception_inside_rolls_back(database: Database, notes: Table) -> None:
    """An exception inside the block rolls back and propagates unchanged."""

    async def write_then_fail() -> None:
        async with database.unit_of_work() as uow:
            await uow.session.execute(insert(notes).values(body="half-written"))
            await uow.session.flush()
            raise LookupError("boom")

    with pytest.raises(LookupError, match="boom"):
        await write_then_fail()

    assert await bodies(database, notes) == []


async def test_work_after_commit_is_rolled_back(database: Database, notes: Table) -> None:
    """Only what was committed survives; later uncommitted work in the same block is discarded."""
    async with database.unit_of_work() as uow:
        await uow.session.execute(insert(notes).values(body="first"))
        await uow.commit()
        await uow.session.execute(insert(notes).values(body="second"))

    assert await bodies(database, notes) == ["first"]


async def test_session_outside_the_block_raises(database: Database) -> None:
    """``session`` is only available inside ``async with``, before and after it raises."""
    uow = database.unit_of_work()
    with pytest.raises(RuntimeError, match="not open"):
        _ = uow.session

    async with uow:
        assert uow.session is not None

    with pytest.raises(RuntimeError, match="not open"):
        _ = uow.session


async def test_foreign_keys_are_enforced(database: Database, target: Target) -> None:
    """A row pointing at a missing parent is refused (SQLite needs its pragma for that)."""
    metadata = MetaData()
    suffix = uuid.uuid4().hex[:12]
    parent = Table(f"test_parent_{suffix}", metadata, Column("id", Integer, primary_key=True))
    child = Table(
        f"test_child_{suffix}",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("parent_id", Integer, ForeignKey(parent.c.id), nullable=False),
    )

    async def insert_orphan() -> None:
        async with database.unit_of_work() as uow:
            await uow.session.execute(insert(child).values(id=1, parent_id=404))
            await uow.commit()

    async with _ddl(target) as connection:
        await connection.run_sync(metadata.create_all)
    try:
        with pytest.raises(IntegrityError):
            await insert_orphan()
    finally:
        async with _ddl(target) as connection:
            await connection.run_sync(metadata.drop_all)


# --- ping, routing, lifecycle ------------------------------------------------------------------


async def test_ping_and_backend(database: Database, target: Target) -> None:
    """``ping`` succeeds against a live database; ``backend`` names the dialect."""
    await database.ping()
    await database.ping(readonly=True)

    assert database.backend == {"sqlite": "sqlite", "postgres": "postgresql"}[target.backend]


async def test_ping_fails_with_the_driver_error(target: Target, settings: Settings, tmp_path: Path) -> None:
    """An unreachable database fails ``ping`` with the driver's own error, not a silent pass."""
    if target.backend == "postgres":
        pg = settings.services.postgres
        bad_url = f"postgresql+asyncpg://{pg.app_user}:x@127.0.0.1:1/{pg.database}"
        expected: type[Exception] = ConnectionRefusedError
    else:
        (tmp_path / "db-is-a-dir").mkdir()
        bad_url = f"sqlite+aiosqlite:///{tmp_path / 'db-is-a-dir'}"
        expected = DBAPIError

    before = set(threading.enumerate())
    async with open_database(settings.database, bad_url) as db:
        with pytest.raises(expected):
            await db.ping()
    await _join_new_driver_threads(before)


async def _join_new_driver_threads(before: set[threading.Thread]) -> None:
    """Wait for aiosqlite worker threads started since ``before`` while the event loop still runs.

    After a failed connect, aiosqlite's thread answers one last future through the loop;
    if the loop closed first, the thread would die with "Event loop is closed".
    """
    for thread in set(threading.enumerate()) - before:
        if "_connection_worker_thread" in thread.name:
            await asyncio.to_thread(thread.join, 10)


async def test_readonly_sessions_use_the_replica(database: Database, notes: Table, target: Target) -> None:
    """Reads go to the replica when there is one (seeing the primary's writes), else to the primary."""
    async with database.unit_of_work() as uow:
        await uow.session.execute(insert(notes).values(body="replicated"))
        await uow.commit()

    readonly_engine = database.sessions(readonly=True).kw["bind"]
    if target.backend == "postgres":
        assert database.replica is not None
        assert readonly_engine is database.replica
        async with database.sessions(readonly=True)() as session:
            assert (await session.execute(text("SELECT pg_is_in_recovery()"))).scalar() is True
        async with database.sessions()() as session:
            assert (await session.execute(text("SELECT pg_is_in_recovery()"))).scalar() is False
        await _wait_for_replica(database, notes)
    else:
        assert database.replica is None
        assert readonly_engine is database.primary

    assert await bodies(database, notes, readonly=True) == ["replicated"]


async def _wait_for_replica(database: Database, table: Table) -> None:
    """Wait (bounded) until the replica has replayed ``table`` and its first row."""
    for _ in range(int(REPLICATION_WAIT_S / 0.05)):
        if not await _replica_lacks_table_or_row(database, table):
            return
        await asyncio.sleep(0.05)


async def _replica_lacks_table_or_row(database: Database, table: Table) -> bool:
    """Whether the replica has not replayed ``table`` and its first row yet."""
    try:
        async with database.sessions(readonly=True)() as session:
            return (await session.execute(select(func.count()).select_from(table))).scalar() == 0
    except DBAPIError:
        return True


async def test_open_database_disposes_every_engine(target: Target, settings: Settings) -> None:
    """Leaving ``open_database`` disposes the primary and the replica engine."""
    disposed: list[str] = []

    async with open_database(settings.database, target.url, target.replica_url) as db:
        engines = {"primary": db.primary, "replica": db.replica}
        for name, engine in engines.items():
            if engine is not None:
                event.listen(engine.sync_engine, "engine_disposed", _recorder(disposed, name))
        await db.ping()
        await db.ping(readonly=True)

    assert disposed == [name for name, engine in engines.items() if engine is not None]


def _recorder(log: list[str], name: str) -> Callable[[Engine], None]:
    def record(_engine: Engine) -> None:
        log.append(name)

    return record


async def test_postgres_engine_uses_the_pool_settings(settings: Settings) -> None:
    """A server engine gets the configured pool size; building it opens no connection."""
    db = Database.from_urls(settings.database, "postgresql+asyncpg://u:p@127.0.0.1:1/none")
    try:
        assert db.primary.pool.size() == settings.database.pool_size  # type: ignore[attr-defined]
        assert db.primary.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await db.dispose()


async def test_nothing_connects_at_construction(settings: Settings, tmp_path: Path) -> None:
    """Building engines for unreachable or absent databases neither fails nor creates anything."""
    sqlite_file = tmp_path / "later" / "folio.db"

    db = Database.from_urls(
        settings.database,
        "postgresql+asyncpg://u:p@127.0.0.1:1/none",
        "postgresql+asyncpg://u:p@127.0.0.1:2/none",
    )
    lite = Database.from_urls(settings.database, f"sqlite+aiosqlite:///{sqlite_file}")
    try:
        assert db.backend == "postgresql"
        assert not sqlite_file.exists()
        with pytest.raises(ConnectionRefusedError):
            await db.ping(readonly=True)
        await lite.ping()
        assert sqlite_file.exists()
    finally:
        await db.dispose()
        await lite.dispose()


async def test_sqlite_pragmas_are_in_effect(settings: Settings, tmp_path: Path) -> None:
    """Every SQLite connection runs with foreign keys on and the WAL journal."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    async with open_database(settings.database, url) as db, db.primary.connect() as connection:
        foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar()
        journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar()

    assert foreign_keys == 1
    assert journal == "wal"
    assert (tmp_path / "p.db").exists()


async def test_sqlite_in_memory_needs_no_folder(settings: Settings) -> None:
    """An in-memory SQLite database works and creates no files."""
    async with open_database(settings.database, "sqlite+aiosqlite:///:memory:") as db:
        await db.ping()
        assert db.backend == "sqlite"


def test_sqlite_pragma_hook_on_a_raw_connection(tmp_path: Path) -> None:
    """The connect hook itself turns foreign keys on and switches the journal to WAL."""
    connection = sqlite3.connect(tmp_path / "raw.db")
    try:
        _sqlite_pragmas(connection, None)

        assert connection.execute("PRAGMA foreign_keys").fetchone() == (1,)
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        connection.close()


async def test_a_dead_pooled_connection_costs_one_retry_not_a_failure(migrated_postgres: Settings) -> None:
    """With no ping on checkout (the default), a unit whose pooled connection was killed runs again."""
    assert migrated_postgres.database.pool_pre_ping is False
    one = migrated_postgres.database.model_copy(update={"pool_size": 1, "max_overflow": 0})
    async with open_database(one, migrated_postgres.database_url) as database:
        backend = int(str(await database.run(lambda session: _scalar(session, "SELECT pg_backend_pid()"))))
        async with open_database(one, migrated_postgres.database_url) as other:
            # A role may end its own backends: the pooled connection dies while idle.
            assert await other.run(lambda s: _scalar(s, f"SELECT pg_terminate_backend({backend})"))
        tries = 0

        async def count_and_read(session: AsyncSession) -> object:
            nonlocal tries
            tries += 1
            return await _scalar(session, "SELECT pg_backend_pid()")

        fresh = await database.run(count_and_read)
    assert tries == 2
    assert fresh != backend


async def _scalar(session: AsyncSession, sql: str) -> object:
    """The one value ``sql`` returns."""
    return (await session.execute(text(sql))).scalar_one()
