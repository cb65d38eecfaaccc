"""Fixtures for the catalog integration tests.

As in tests/integration/tasks: ``pg_database`` uses the primary only (a read right after
a write must not race the replica), and argon2 is made cheap because the HTTP tests sign up many members.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

from folio.catalog.api import WorkCreate, WorkRead, create_work, set_work_published
from folio.catalog.isbn import isbn10_to_isbn13
from folio.core.db import Database, open_database
from folio.core.security import Principal
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


_random = random.SystemRandom()


def generated_isbn() -> str:
    """A random, valid, generated ISBN-13 (978 prefix): the shared PostgreSQL is never cleaned."""
    first9 = "".join(_random.choice("0123456789") for _ in range(9))
    total = sum((10 - i) * int(d) for i, d in enumerate(first9))
    check = (11 - total % 11) % 11
    return isbn10_to_isbn13(first9 + ("X" if check == 10 else str(check)))


async def published_work(db: Database, principal: Principal, title: str) -> WorkRead:
    """A work ``principal``'s shop creates and the curator then publishes, so every shop sees it."""
    created = await create_work(db, principal=principal, data=WorkCreate(title=title))
    return await set_work_published(db, work_id=created.id, published=True, operator="test curator")
