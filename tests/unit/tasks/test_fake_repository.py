"""``FakeTaskRepository`` keeps the repository contract, so unit tests may trust it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from folio.core.errors import TenantRequiredError
from folio.core.tenancy import tenant_scope
from folio.tasks.models import Task
from folio.tasks.repository import FakeTaskRepository, TaskRepository, Visibility
from tests.unit.tasks.repository_contract import RepositoryContract, Run

pytestmark = pytest.mark.unit


@pytest.fixture
def run() -> Run:
    """Run against one in-memory store shared by every call of the test."""
    rows: dict[uuid.UUID, Task] = {}

    async def run(shop: uuid.UUID, fn: Callable[[TaskRepository], Awaitable[Any]]) -> Any:
        with tenant_scope(shop):
            return await fn(FakeTaskRepository(rows))

    return run


class TestFakeRepository(RepositoryContract):
    """The contract, against the in-memory fake."""


async def test_fake_needs_a_tenant() -> None:
    """Like the real one, the fake refuses to work outside a tenant scope."""
    with pytest.raises(TenantRequiredError):
        await FakeTaskRepository().get(uuid.uuid4(), visibility=Visibility.all_tasks())
