"""Fixtures for the tasks integration tests.

``pg_database`` is overridden here to use the primary only. The shared fixture also
opens the streaming replica, and ``Database`` sends reads there outside a
read-your-writes scope (tests) or in a request that has not written yet (the
gateway's scope is per request): a test that writes and then reads in the next call
would race the replica's replay. Read routing is tested in tests/integration/core;
these tests are about tasks.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from folio.core.db import Database, open_database
from folio.core.settings import Settings


@pytest.fixture(scope="session")
def migrated_postgres(migrated_postgres: Settings) -> Settings:
    """The shared migrated PostgreSQL settings, with the cheapest argon2 parameters allowed.

    These tests register and log in many members; hashing at production cost would
    make up most of their run time and tests nothing about tasks.
    """
    cheap = {"argon2_time_cost": 1, "argon2_memory_kib": 8_192, "argon2_parallelism": 1}
    return migrated_postgres.model_copy(
        update={"identity": migrated_postgres.identity.model_copy(update=cheap)}
    )


@pytest.fixture
async def pg_database(migrated_postgres: Settings) -> AsyncIterator[Database]:
    """A ``Database`` on the migrated PostgreSQL primary, as the application role (RLS applies)."""
    async with open_database(migrated_postgres.database, migrated_postgres.database_url) as database:
        yield database


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session, for ``sqlite_database`` to copy."""
    from folio.core.migrations import upgrade

    path = tmp_path_factory.mktemp("tasks-sqlite") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
async def sqlite_database(
    settings: Settings, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[Database]:
    """A fresh migrated SQLite file per test, copied from the template (migrating each time is slow)."""
    path = tmp_path / "folio.db"
    shutil.copyfile(sqlite_template, path)
    db_settings = settings.database.model_copy(update={"backend": "sqlite", "url": None})
    async with open_database(db_settings, f"sqlite+aiosqlite:///{path}") as database:
        yield database
