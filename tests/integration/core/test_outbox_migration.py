"""Migration 0011 on SQLite and PostgreSQL: catalog_changes moves into the outbox and back, state kept.

PostgreSQL runs the whole chain in a scratch schema as the owner role (on one
connection, handed to Alembic), so the suite's shared database is never downgraded.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from folio.core.columns import UtcDateTime
from folio.core.migrations import alembic_config, downgrade, upgrade
from folio.core.settings import Settings

pytestmark = pytest.mark.integration

BEFORE = "0010_catalog_curation"
CREATED = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
SHOP = uuid.uuid4()
WORK = uuid.uuid4()
LISTING = uuid.uuid4()
GONE = uuid.uuid4()

catalog_changes = sa.table(
    "catalog_changes",
    sa.column("id", sa.Integer()),
    sa.column("entity", sa.String()),
    sa.column("entity_id", sa.Uuid()),
    sa.column("tenant_id", sa.Uuid()),
    sa.column("op", sa.String()),
    sa.column("created_at", UtcDateTime()),
    sa.column("processed_at", UtcDateTime()),
    sa.column("attempts", sa.Integer()),
    sa.column("last_error", sa.Text()),
)
events = sa.table(
    "outbox_events",
    sa.column("id", sa.Integer()),
    sa.column("topic", sa.String()),
    sa.column("key", sa.String()),
    sa.column("type", sa.String()),
    sa.column("schema_version", sa.Integer()),
    sa.column("payload", sa.JSON()),
    sa.column("tenant_id", sa.Uuid()),
    sa.column("created_at", UtcDateTime()),
)
deliveries = sa.table(
    "outbox_deliveries",
    sa.column("consumer", sa.String()),
    sa.column("event_id", sa.Integer()),
    sa.column("attempts", sa.Integer()),
    sa.column("last_error", sa.Text()),
    sa.column("poisoned_at", UtcDateTime()),
)
consumers = sa.table("outbox_consumers", sa.column("name", sa.String()), sa.column("topic", sa.String()))

_FIELDS = ("entity", "entity_id", "tenant_id", "op", "processed", "attempts", "last_error")
OLD_ROWS: list[dict[str, Any]] = [
    dict(zip(_FIELDS, values, strict=True))
    for values in (
        ("work", WORK, None, "upsert", True, 0, None),
        ("listing", LISTING, SHOP, "upsert", False, 2, "engine down"),
        ("work", GONE, None, "delete", False, 5, "refused"),  # the old cap: set aside
        ("catalog", None, None, "reindex", False, 0, None),
    )
]
"""Processed, retrying, poisoned and pending rows of ``catalog_changes``."""


def write_old_outbox(connection: sa.Connection) -> list[int]:
    """The four ``OLD_ROWS`` in ``catalog_changes``, as 0010 left the table; their ids."""
    ids = []
    for row in OLD_ROWS:
        values = {
            "entity": row["entity"],
            "entity_id": row["entity_id"],
            "tenant_id": row["tenant_id"],
            "op": row["op"],
            "created_at": CREATED,
            "processed_at": CREATED if row["processed"] else None,
            "attempts": row["attempts"],
            "last_error": row["last_error"],
        }
        ids.append(
            connection.execute(
                sa.insert(catalog_changes).values(values).returning(catalog_changes.c.id)
            ).scalar_one()
        )
    return ids


def check_outbox(connection: sa.Connection, ids: list[int]) -> None:
    """Every old row is a catalog event with its old id; pending ones are ``search`` deliveries."""
    # Later revisions subscribe consumers of their own topics (the broker relay); catalog's is search alone.
    catalog_consumers = sa.select(consumers.c.name, consumers.c.topic).where(consumers.c.topic == "catalog")
    assert list(connection.execute(catalog_consumers)) == [("search", "catalog")]
    moved = connection.execute(
        sa.select(
            events.c.id, events.c.topic, events.c.key, events.c.type, events.c.payload, events.c.tenant_id
        ).order_by(events.c.id)
    ).all()
    assert [tuple(row) for row in moved] == [
        (ids[0], "catalog", str(WORK), "work.changed",
         {"entity": "work", "op": "upsert", "entity_id": str(WORK), "tenant_id": None}, None),
        (ids[1], "catalog", str(LISTING), "listing.changed",
         {"entity": "listing", "op": "upsert", "entity_id": str(LISTING), "tenant_id": str(SHOP)}, SHOP),
        (ids[2], "catalog", str(GONE), "work.deleted",
         {"entity": "work", "op": "delete", "entity_id": str(GONE), "tenant_id": None}, None),
        (ids[3], "catalog", None, "catalog.bulk_imported",
         {"entity": "catalog", "op": "reindex", "entity_id": None, "tenant_id": None}, None),
    ]  # fmt: skip
    owed = connection.execute(
        sa.select(
            deliveries.c.event_id,
            deliveries.c.attempts,
            deliveries.c.last_error,
            deliveries.c.poisoned_at.is_not(None),
        )
        .where(deliveries.c.consumer == "search")
        .order_by(deliveries.c.event_id)
    ).all()
    assert [tuple(row) for row in owed] == [
        (ids[1], 2, "engine down", False),
        (ids[2], 5, "refused", True),
        (ids[3], 0, None, False),
    ]
    # New events number on from the moved ones (PostgreSQL's sequence was moved past them).
    fresh = connection.execute(
        sa.insert(events)
        .values(topic="elsewhere", type="thing.changed", schema_version=1, payload={}, created_at=CREATED)
        .returning(events.c.id)
    ).scalar_one()
    assert fresh > ids[-1]


def check_old_outbox(connection: sa.Connection, ids: list[int]) -> None:
    """After the downgrade ``catalog_changes`` holds the catalog events again, pending state kept."""
    rows = connection.execute(
        sa.select(
            catalog_changes.c.id,
            catalog_changes.c.entity,
            catalog_changes.c.entity_id,
            catalog_changes.c.tenant_id,
            catalog_changes.c.op,
            catalog_changes.c.processed_at.is_not(None),
            catalog_changes.c.attempts,
            catalog_changes.c.last_error,
        ).order_by(catalog_changes.c.id)
    ).all()
    assert [tuple(row) for row in rows] == [
        (
            row_id,
            old["entity"],
            old["entity_id"],
            old["tenant_id"],
            old["op"],
            old["processed"],
            old["attempts"],
            old["last_error"],
        )
        for row_id, old in zip(ids, OLD_ROWS, strict=True)
    ]


def test_upgrade_and_downgrade_on_sqlite(tmp_path: Path) -> None:
    """On SQLite, 0011 moves processed and pending changes into the outbox and 0010 gets them back."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'folio.db'}"
    upgrade(url, BEFORE)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'folio.db'}")
    try:
        with engine.begin() as connection:
            ids = write_old_outbox(connection)
        upgrade(url)
        with engine.begin() as connection:
            check_outbox(connection, ids)
        downgrade(url, BEFORE)
        with engine.begin() as connection:
            check_old_outbox(connection, ids)
        upgrade(url)  # and up again: the round trip leaves a database the head accepts
    finally:
        engine.dispose()


@pytest.fixture
async def owner_engine(
    settings: Settings, require_service: Callable[[str], None]
) -> AsyncIterator[AsyncEngine]:
    """An engine connected as the owner role, the one migrations run as."""
    require_service("postgres")
    engine = create_async_engine(settings.services.postgres.url(role="owner"), poolclass=NullPool)
    yield engine
    await engine.dispose()


def _migrate(connection: sa.Connection, action: Callable[..., None], revision: str) -> None:
    config = alembic_config("postgresql+asyncpg://unused")  # the connection below is used instead
    config.attributes["connection"] = connection
    action(config, revision)


async def test_upgrade_and_downgrade_on_postgres(owner_engine: AsyncEngine) -> None:
    """On PostgreSQL (a scratch schema), 0011 moves the changes in and out again, ids and state kept."""
    schema = f"test_outbox_{uuid.uuid4().hex[:12]}"
    async with owner_engine.begin() as connection:
        await connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        async with owner_engine.connect() as connection:
            await connection.execute(sa.text(f"SET search_path TO {schema}"))
            await connection.run_sync(_migrate, command.upgrade, BEFORE)
            ids = await connection.run_sync(write_old_outbox)
            await connection.run_sync(_migrate, command.upgrade, "head")
            await connection.run_sync(check_outbox, ids)
            await connection.run_sync(_migrate, command.downgrade, BEFORE)
            await connection.run_sync(check_old_outbox, ids)
            await connection.rollback()
    finally:
        async with owner_engine.begin() as connection:
            await connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
