"""The fence on PostgreSQL (app role) and SQLite: newer or equal tokens pass, older ones roll back."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import Database
from folio.locks.api import FencingError, InvalidLockRequestError, fence
from folio.locks.models import LockFence

pytestmark = pytest.mark.integration


async def newest_token(database: Database, resource: str) -> int | None:
    """The token the resource's fence holds, or None."""

    async def read(session: AsyncSession) -> int | None:
        return await session.scalar(select(LockFence.token).where(LockFence.resource == resource))

    return await database.run(read)


def admit(resource: str, token: int) -> Callable[[AsyncSession], Awaitable[None]]:
    """A unit of work that only passes the fence."""

    async def work(session: AsyncSession) -> None:
        await fence(session, resource=resource, token=token)

    return work


async def test_newer_and_equal_tokens_pass_and_an_older_one_is_refused(any_database: Database) -> None:
    """Tokens 3, 3 and 8 are admitted; 5 afterwards is a stale-fencing-token problem naming both tokens."""
    resource = f"test:{uuid.uuid4().hex}"
    for token in (3, 3, 8):
        await any_database.run(admit(resource, token))

    with pytest.raises(FencingError) as caught:
        await any_database.run(admit(resource, 5))

    problem = caught.value.to_problem()
    assert (problem.status, problem.code) == (409, "stale-fencing-token")
    assert problem.model_extra == {"resource": resource, "token": 5, "newest_token": 8}
    assert await newest_token(any_database, resource) == 8


async def test_a_refused_write_rolls_back_with_the_rest_of_its_transaction(any_database: Database) -> None:
    """The stale holder's other writes in the same transaction never commit."""
    resource = f"test:{uuid.uuid4().hex}"
    bystander = f"test:{uuid.uuid4().hex}"
    await any_database.run(admit(resource, 10))

    async def stale_holder(session: AsyncSession) -> None:
        await fence(session, resource=bystander, token=1)  # the "effect" written first
        await fence(session, resource=resource, token=9)

    with pytest.raises(FencingError):
        await any_database.run(stale_holder)

    assert await newest_token(any_database, bystander) is None


@pytest.mark.parametrize(("resource", "token"), [("", 1), ("ok", 0), ("ok", -3), ("ok", 2**63)])
async def test_a_bad_resource_or_token_is_a_validation_problem(
    any_database: Database, resource: str, token: int
) -> None:
    """An empty resource, or a token outside 1..2**63-1, is refused before any SQL runs."""
    with pytest.raises(InvalidLockRequestError):
        await any_database.run(admit(resource, token))
