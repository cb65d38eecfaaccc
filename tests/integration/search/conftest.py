"""Fixtures for the search integration tests: the real Typesense, a private namespace per test.

``pg_database`` uses the primary only (as in tests/integration/tasks): these tests
write and read back at once, which a lagging replica would race.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from folio.core.db import Database, open_database
from folio.core.settings import Settings
from folio.search.api import SearchBackend, SearchEngine, open_engine
from tests.support.search import backend_in_namespace


@pytest.fixture(scope="session")
def migrated_postgres(migrated_postgres: Settings) -> Settings:
    """The shared migrated PostgreSQL settings, with the cheapest argon2 parameters (many logins)."""
    cheap = {"argon2_time_cost": 1, "argon2_memory_kib": 8_192, "argon2_parallelism": 1}
    return migrated_postgres.model_copy(
        update={"identity": migrated_postgres.identity.model_copy(update=cheap)}
    )


@pytest.fixture
async def pg_database(migrated_postgres: Settings) -> AsyncIterator[Database]:
    """A ``Database`` on the migrated PostgreSQL primary, as the application role (RLS applies)."""
    async with open_database(migrated_postgres.database, migrated_postgres.database_url) as database:
        yield database


@pytest.fixture
async def engine(settings: Settings, require_service: Callable[[str], None]) -> AsyncIterator[SearchEngine]:
    """A client of the services' Typesense with the admin key."""
    require_service("search")
    async with open_engine(settings) as engine:
        yield engine


@pytest.fixture
async def backend(engine: SearchEngine) -> AsyncIterator[SearchBackend]:
    """A ``SearchBackend`` whose indexes carry a prefix of this test's own; dropped afterwards."""
    async for backend in backend_in_namespace(engine):
        yield backend
