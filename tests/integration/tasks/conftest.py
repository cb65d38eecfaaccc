"""Fixtures for the tasks integration tests.

``pg_database`` is overridden here to use the primary only. The shared fixture also
opens the streaming replica, and ``Database`` sends reads there outside a
read-your-writes scope (tests) or in a request that has not written yet (the
gateway's scope is per request): a test that writes and then reads in the next call
would race the replica's replay. Read routing is tested in tests/integration/core;
these tests are about tasks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from folio.core.db import Database, open_database
from folio.core.settings import Settings
from folio.tasks.api import SqlAlchemyTaskUnitOfWork, TaskUnitOfWork
from tests.support.identity import fast_argon2


@pytest.fixture(scope="session")
def migrated_postgres(migrated_postgres: Settings) -> Settings:
    """The shared migrated PostgreSQL settings, with the cheapest argon2 parameters allowed.

    These tests register and log in many members; hashing at production cost would
    make up most of their run time and tests nothing about tasks.
    """
    return fast_argon2(migrated_postgres)


@pytest.fixture
async def pg_database(migrated_postgres: Settings) -> AsyncIterator[Database]:
    """A ``Database`` on the migrated PostgreSQL primary, as the application role (RLS applies)."""
    async with open_database(migrated_postgres.database, migrated_postgres.database_url) as database:
        yield database


@pytest.fixture
def uow(any_database: Database, settings: Settings) -> TaskUnitOfWork:
    """The SQL unit of work bootstrap wires, on the database under test (both backends)."""
    return SqlAlchemyTaskUnitOfWork(any_database, settings)
