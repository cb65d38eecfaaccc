"""Tenancy without a server: the scope, the problem, the filter, and what SQLite is spared."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Connection, create_mock_engine, event, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from folio.core.db import Database
from folio.core.errors import PROBLEM_CATALOGUE, TenantRequiredError
from folio.core.settings import load_settings
from folio.core.tenancy import (
    TenantOwned,
    current_tenant,
    disable_tenant_isolation,
    enable_tenant_isolation,
    require_tenant,
    tenant_filter,
    tenant_scope,
)

pytestmark = pytest.mark.unit

SHOP_A = uuid.UUID("00000000-0000-4000-8000-00000000000a")
SHOP_B = uuid.UUID("00000000-0000-4000-8000-00000000000b")


class _Base(DeclarativeBase):
    pass


class Shelf(TenantOwned, _Base):
    """A tenant-owned model, as a context would declare one."""

    __tablename__ = "shelves"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


def test_scope_sets_the_tenant_and_nesting_restores_the_outer_one() -> None:
    """An inner scope wins inside it; leaving it brings back the outer tenant, then none."""
    assert current_tenant() is None
    with tenant_scope(SHOP_A):
        assert current_tenant() == SHOP_A
        with tenant_scope(SHOP_B) as inner:
            assert inner == SHOP_B
            assert require_tenant() == SHOP_B
        assert current_tenant() == SHOP_A
    assert current_tenant() is None


def test_scope_is_restored_when_the_block_raises() -> None:
    """An exception leaving the scope still restores the tenant that was there before."""
    with tenant_scope(SHOP_A):
        with pytest.raises(ValueError, match="boom"), tenant_scope(SHOP_B):
            raise ValueError("boom")
        assert current_tenant() == SHOP_A


def test_scope_refuses_a_tenant_that_is_not_a_uuid() -> None:
    """A string (an unparsed header, say) is refused rather than put in the security setting."""
    with pytest.raises(TypeError, match=r"uuid\.UUID"), tenant_scope(str(SHOP_A)):  # type: ignore[arg-type]
        pass
    assert current_tenant() is None


async def test_tasks_spawned_in_a_scope_inherit_the_tenant() -> None:
    """A task started inside a scope sees its tenant; one started outside does not."""

    async def read() -> uuid.UUID | None:
        return current_tenant()

    with tenant_scope(SHOP_A):
        inside = asyncio.create_task(read())
    outside = asyncio.create_task(read())
    assert await inside == SHOP_A
    assert await outside is None


def test_require_tenant_outside_a_scope_raises_the_tenant_required_problem() -> None:
    """Without a tenant, require_tenant raises a catalogued 400 problem `tenant-required`."""
    with pytest.raises(TenantRequiredError) as caught:
        require_tenant()
    problem = caught.value.to_problem()
    assert (problem.code, problem.status) == ("tenant-required", 400)
    assert PROBLEM_CATALOGUE["tenant-required"] is TenantRequiredError


def test_tenant_owned_adds_a_non_null_indexed_uuid_column() -> None:
    """The mixin gives each model its own `tenant_id`: UUID, NOT NULL, indexed."""
    column = Shelf.__table__.c.tenant_id
    assert column.nullable is False
    assert column.index is True
    assert column.type.python_type is uuid.UUID


def test_tenant_filter_compares_with_the_tenant_in_scope() -> None:
    """tenant_filter is `tenant_id = <scope's tenant>` and refuses to run without a scope."""
    with tenant_scope(SHOP_A):
        clause = tenant_filter(Shelf)
    compiled = select(Shelf.id).where(clause).compile()
    assert "WHERE shelves.tenant_id = :tenant_id_1" in str(compiled)
    assert compiled.params == {"tenant_id_1": SHOP_A}
    with pytest.raises(TenantRequiredError):
        tenant_filter(Shelf)


def _recording_connection(dialect: str) -> tuple[Connection, list[str]]:
    """A connection that records the SQL it is given instead of running it."""
    statements: list[str] = []

    def record(sql: Any, *_args: object, **_kwargs: object) -> None:
        statements.append(str(sql))

    mock = create_mock_engine(f"{dialect}://", record)
    return cast("Connection", mock), statements


def test_enable_tenant_isolation_forces_rls_with_a_quoted_policy_on_postgres() -> None:
    """On PostgreSQL: ENABLE and FORCE RLS and one policy for reads and writes, the name quoted."""
    bind, statements = _recording_connection("postgresql")
    enable_tenant_isolation('Odd "Name"', bind=bind)
    predicate = "tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid"
    assert statements == [
        'ALTER TABLE "Odd ""Name""" ENABLE ROW LEVEL SECURITY',
        'ALTER TABLE "Odd ""Name""" FORCE ROW LEVEL SECURITY',
        f'CREATE POLICY tenant_isolation ON "Odd ""Name""" USING ({predicate}) WITH CHECK ({predicate})',
    ]
    statements.clear()
    disable_tenant_isolation("orders", bind=bind)
    assert statements == [
        "DROP POLICY IF EXISTS tenant_isolation ON orders",
        "ALTER TABLE orders NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE orders DISABLE ROW LEVEL SECURITY",
    ]


def test_tenant_isolation_helpers_do_nothing_on_sqlite() -> None:
    """SQLite has no row-level security: enabling and disabling isolation emit no SQL."""
    bind, statements = _recording_connection("sqlite")
    enable_tenant_isolation("orders", bind=bind)
    disable_tenant_isolation("orders", bind=bind)
    assert statements == []


async def test_sessions_set_no_tenant_setting_on_sqlite(tmp_path: Path) -> None:
    """On SQLite a unit of work inside a tenant scope runs only its own statements, no set_config."""
    database = Database.from_urls(load_settings().database, f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(statement)

    event.listen(database.primary.sync_engine, "before_cursor_execute", record)
    try:
        with tenant_scope(SHOP_A):
            assert await database.run(lambda session: session.scalar(text("SELECT 41 + 1"))) == 42
    finally:
        await database.dispose()
    assert sent == ["SELECT 41 + 1"]
