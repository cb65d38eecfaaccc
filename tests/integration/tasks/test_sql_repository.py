"""``SqlAlchemyTaskRepository`` keeps the repository contract on PostgreSQL and SQLite."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import Database
from folio.core.tenancy import tenant_scope
from folio.tasks.repository import SqlAlchemyTaskRepository, TaskRepository
from tests.unit.tasks.repository_contract import RepositoryContract, Run

pytestmark = pytest.mark.integration


@pytest.fixture
def run(any_database: Database) -> Run:
    """Each call is one unit of work on the database under test."""

    async def run(shop: uuid.UUID, fn: Callable[[TaskRepository], Awaitable[Any]]) -> Any:
        async def work(session: AsyncSession) -> Any:
            return await fn(SqlAlchemyTaskRepository(session))

        with tenant_scope(shop):
            return await any_database.run(work)

    return run


class TestSqlAlchemyRepository(RepositoryContract):
    """The contract, against the real table on both backends."""
