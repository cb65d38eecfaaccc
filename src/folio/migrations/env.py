"""Alembic environment: runs migrations on the async engine for the configured URL.

The URL comes from ``folio.core.migrations`` (``config.attributes["url"]``), never
from alembic.ini, so secrets stay in Folio's settings. A caller that already holds a
connection (a test migrating a scratch PostgreSQL schema) passes it as
``config.attributes["connection"]`` instead, and the migrations run on it.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from folio.core.db import Base
from folio.core.migrations import check_version_table_owner

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite can only ALTER through table copies
        compare_type=True,
    )


def run_offline() -> None:
    """Emit SQL to stdout instead of running it (``--sql``)."""
    _configure(url=config.attributes["url"])
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    check_version_table_owner(connection)
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    """Run the migrations over one connection of a short-lived async engine."""
    engine = create_async_engine(config.attributes["url"])
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_offline()
elif (given := config.attributes.get("connection")) is not None:
    _run_sync(given)
else:
    asyncio.run(run_online())
