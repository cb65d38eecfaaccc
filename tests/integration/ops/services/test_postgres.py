"""PostgreSQL round trips as the application role: primary, streaming replica, role limits."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Literal

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Text, func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from folio.core.settings import Settings
from folio.core.settings.services import default_services_data_dir
from folio.ops.services.accounts import SystemAccount
from folio.ops.services.postgres import PostgresService

pytestmark = pytest.mark.integration

REPLICATION_WAIT_S = 10.0
INSUFFICIENT_PRIVILEGE = "42501"
READ_ONLY_SQL_TRANSACTION = "25006"


async def _connect(
    settings: Settings, *, replica: bool, role: Literal["app", "owner"] = "app"
) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(
        settings.services.postgres.url(replica=replica, role=role), poolclass=NullPool
    )
    try:
        async with engine.connect() as conn:
            yield conn
    finally:
        await engine.dispose()


@pytest.fixture
async def primary(
    settings: Settings, require_service: Callable[[str], None]
) -> AsyncIterator[AsyncConnection]:
    """An autocommit connection to the primary as the application role."""
    require_service("postgres")
    async for conn in _connect(settings, replica=False):
        yield await conn.execution_options(isolation_level="AUTOCOMMIT")


@pytest.fixture
async def owner_primary(
    settings: Settings, require_service: Callable[[str], None]
) -> AsyncIterator[AsyncConnection]:
    """An autocommit connection to the primary as the owner role (the one that creates tables)."""
    require_service("postgres")
    async for conn in _connect(settings, replica=False, role="owner"):
        yield await conn.execution_options(isolation_level="AUTOCOMMIT")


@pytest.fixture
async def replica(
    settings: Settings, require_service: Callable[[str], None]
) -> AsyncIterator[AsyncConnection]:
    """An autocommit connection to the streaming replica as the application role."""
    require_service("postgres")
    async for conn in _connect(settings, replica=True):
        yield await conn.execution_options(isolation_level="AUTOCOMMIT")


@pytest.fixture
def books() -> Table:
    """A table (not yet created) whose name no other test uses."""
    return Table(
        f"t_{uuid.uuid4().hex[:12]}",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("tenant", Text, nullable=False),
        Column("title", Text, nullable=False),
    )


@pytest.fixture
async def created_books(owner_primary: AsyncConnection, books: Table) -> AsyncIterator[Table]:
    """``books`` created on the primary by the owner role (as a migration would), dropped afterwards."""
    await owner_primary.run_sync(books.metadata.create_all)
    try:
        yield books
    finally:
        await owner_primary.run_sync(books.metadata.drop_all)


async def test_row_written_on_primary_is_read_back_from_replica(
    primary: AsyncConnection, replica: AsyncConnection, created_books: Table
) -> None:
    """A row the app role inserts on the primary streams to the replica within seconds."""
    await primary.execute(insert(created_books).values(id=1, tenant="a", title="Middlemarch"))
    title = None
    deadline = asyncio.get_running_loop().time() + REPLICATION_WAIT_S
    while title is None and asyncio.get_running_loop().time() < deadline:
        visible = await replica.scalar(select(func.to_regclass(created_books.name)))
        if visible is not None:
            title = await replica.scalar(select(created_books.c.title).where(created_books.c.id == 1))
        if title is None:
            await asyncio.sleep(0.1)
    assert title == "Middlemarch"


async def test_replica_refuses_writes(replica: AsyncConnection, books: Table) -> None:
    """The replica is a hot standby: a write fails with SQLSTATE 25006 (read-only transaction)."""
    assert await replica.scalar(text("SELECT pg_is_in_recovery()")) is True
    with pytest.raises(DBAPIError) as caught:
        await replica.run_sync(books.metadata.create_all)
    assert getattr(caught.value.orig, "sqlstate", None) == READ_ONLY_SQL_TRANSACTION


async def test_app_role_is_neither_superuser_nor_exempt_from_row_level_security(
    primary: AsyncConnection, settings: Settings
) -> None:
    """The application role has no superuser, BYPASSRLS, CREATEDB or CREATEROLE attribute."""
    result = await primary.execute(
        text(
            "SELECT current_user AS name, rolsuper, rolbypassrls, rolcreatedb, rolcreaterole"
            " FROM pg_roles WHERE rolname = current_user"
        )
    )
    row = result.mappings().one()
    assert dict(row) == {
        "name": settings.services.postgres.app_user,
        "rolsuper": False,
        "rolbypassrls": False,
        "rolcreatedb": False,
        "rolcreaterole": False,
    }


async def test_database_is_owned_by_the_owner_role_not_the_app_role(
    primary: AsyncConnection, settings: Settings
) -> None:
    """Tables migrations create belong to the owner role, so row-level security binds the app role."""
    owner = await primary.scalar(
        text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")
    )
    assert owner == settings.services.postgres.owner_user


async def test_row_level_security_filters_the_app_role(
    primary: AsyncConnection, owner_primary: AsyncConnection, created_books: Table
) -> None:
    """A forced row-level security policy the owner sets hides other tenants' rows from the app role."""
    await owner_primary.execute(
        insert(created_books),
        [{"id": 1, "tenant": "a", "title": "Emma"}, {"id": 2, "tenant": "b", "title": "Persuasion"}],
    )
    name = created_books.name
    await owner_primary.execute(text(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY"))
    await owner_primary.execute(text(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY"))
    await owner_primary.execute(
        text(f"CREATE POLICY tenant_only ON {name} USING (tenant = current_setting('folio.tenant'))")
    )
    # Session-wide on purpose: the connection is closed (NullPool) when the test ends.
    await primary.execute(text("SELECT set_config('folio.tenant', 'a', false)"))
    titles = (await primary.scalars(select(created_books.c.title))).all()
    assert titles == ["Emma"]


async def test_app_role_cannot_create_tables(primary: AsyncConnection, books: Table) -> None:
    """Only migrations (the owner role) change the schema: the app role's CREATE TABLE is refused."""
    with pytest.raises(DBAPIError) as caught:
        await primary.run_sync(books.metadata.create_all)
    assert getattr(caught.value.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


_MANAGER_SCRIPT = """
import json, sys
from folio.core.settings import load_settings
from folio.ops.manager import ServiceManager
manager = ServiceManager(load_settings())
if sys.argv[1] == "up":
    print(json.dumps([spec.name for spec in manager.up(["postgres"])]))
else:
    print(json.dumps(manager.down(["postgres"])))
"""


def _services(action: str, env: dict[str, str]) -> list[str]:
    """Run ``ServiceManager.up/down(["postgres"])`` in a fresh process, as ``folio services`` does."""
    done = subprocess.run(
        [sys.executable, "-c", _MANAGER_SCRIPT, action],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    names: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return names


def test_restart_keeps_data_and_up_is_idempotent(settings: Settings) -> None:
    """A private primary+replica survives down/up with its rows, and a second up starts nothing."""
    root = settings.services.data_dir.absolute() / f"test-{uuid.uuid4().hex[:8]}"
    pg = settings.services.postgres.model_copy(update={"port": _free_port(), "replica_port": _free_port()})
    private = settings.model_copy(
        update={"services": settings.services.model_copy(update={"data_dir": root, "postgres": pg})}
    )
    env = {
        "FOLIO_SERVICES_DATA_DIR": str(root),
        "FOLIO_SERVICES_POSTGRES_PORT": str(pg.port),
        "FOLIO_SERVICES_POSTGRES_REPLICA_PORT": str(pg.replica_port),
    }
    service = PostgresService(private)
    try:
        assert _services("up", env) == ["postgres.primary", "postgres.replica"]
        assert _services("up", env) == []
        service.psql(
            "primary", "CREATE TABLE kept (n int); INSERT INTO kept VALUES (42);", database=pg.database
        )
        assert _services("down", env) == ["postgres.replica", "postgres.primary"]
        assert _services("up", env) == ["postgres.primary", "postgres.replica"]
        assert service.psql("primary", "SELECT n FROM kept;", database=pg.database).strip() == "42"
        assert service.psql("replica", "SELECT n FROM kept;", database=pg.database).strip() == "42"
    finally:
        try:
            _services("down", env)
        finally:
            shutil.rmtree(root, ignore_errors=True)


def test_a_clone_in_a_private_folder_keeps_data_the_postgres_account_reaches(tmp_path: Path) -> None:
    """A checkout under a mode-700 folder (as root's home is) gets a data folder `postgres` can enter."""
    home = tmp_path / "home"
    checkout = home / "folio"
    checkout.mkdir(parents=True)
    home.chmod(0o700)
    account = SystemAccount.lookup("postgres")
    assert not account.can_traverse(home)

    data_dir = default_services_data_dir(checkout)
    try:
        (data_dir / "postgres").mkdir(parents=True)
        account.ensure_reachable(data_dir / "postgres", managed_root=data_dir)  # raises when it cannot

        assert home not in data_dir.parents
        assert all(account.can_traverse(folder) for folder in [data_dir / "postgres", *data_dir.parents])
        assert stat.S_IMODE(home.stat().st_mode) == 0o700  # the user's permissions are left as they were
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
