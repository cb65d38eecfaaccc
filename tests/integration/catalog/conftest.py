"""Fixtures for the catalog integration tests.

As in tests/integration/tasks: ``pg_database`` uses the primary only (a read right after
a write must not race the replica), SQLite files are copied from one migrated template,
and argon2 is made cheap because the HTTP tests sign up many members.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from folio.catalog.isbn import isbn10_to_isbn13
from folio.core.db import Database, open_database
from folio.core.settings import Settings
from tests.support.identity import fast_argon2


@pytest.fixture(scope="session")
def migrated_postgres(migrated_postgres: Settings) -> Settings:
    """The shared migrated PostgreSQL settings, with the cheapest argon2 parameters allowed."""
    return fast_argon2(migrated_postgres)


@pytest.fixture
async def pg_database(migrated_postgres: Settings) -> AsyncIterator[Database]:
    """A ``Database`` on the migrated PostgreSQL primary, as the application role (RLS applies)."""
    async with open_database(migrated_postgres.database, migrated_postgres.database_url) as database:
        yield database


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session, for ``sqlite_database`` to copy."""
    from folio.core.migrations import upgrade

    path = tmp_path_factory.mktemp("catalog-sqlite") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
async def sqlite_database(
    settings: Settings, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[Database]:
    """A fresh migrated SQLite file per test, copied from the template."""
    path = tmp_path / "folio.db"
    shutil.copyfile(sqlite_template, path)
    db_settings = settings.database.model_copy(update={"backend": "sqlite", "url": None})
    async with open_database(db_settings, f"sqlite+aiosqlite:///{path}") as database:
        yield database


_random = random.SystemRandom()


def generated_isbn() -> str:
    """A random, valid, generated ISBN-13 (978 prefix): the shared PostgreSQL is never cleaned."""
    first9 = "".join(_random.choice("0123456789") for _ in range(9))
    total = sum((10 - i) * int(d) for i, d in enumerate(first9))
    check = (11 - total % 11) % 11
    return isbn10_to_isbn13(first9 + ("X" if check == 10 else str(check)))
