"""The fence: the protected resource's side of fencing tokens, in the writer's own transaction.

A lease can end while its holder still works (a pause longer than the TTL: a stop
signal, a stalled VM, a long collection), and the holder cannot notice before its next
step. So the resource checks: each write carries its lease's fencing token, and
``fence`` records it as the newest for the resource, or refuses it when a newer holder
already wrote. The check and the write commit together, so a refused write leaves no
trace (the caller's transaction rolls back on ``FencingError``).

One statement, a conditional upsert (``INSERT ... ON CONFLICT DO UPDATE ... WHERE
token <= new token ... RETURNING``), on PostgreSQL and SQLite alike. On PostgreSQL the
row lock it takes is held to the commit, so two holders' writes to one resource commit
in token order; SQLite has one writer at a time anyway. Equal tokens pass: one holder
may write several times under one lease.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from folio.locks.errors import FencingError, InvalidLockRequestError
from folio.locks.lease import check_resource
from folio.locks.models import LockFence

__all__ = ["fence"]

_MAX_TOKEN = 2**63 - 1
"""A ``bigint``'s largest value."""


async def fence(session: AsyncSession, *, resource: str, token: int) -> None:
    """Admit a write to ``resource`` carrying fencing ``token``, in ``session``'s transaction.

    Precondition: ``token`` is the ``fencing_token`` of a lease on ``resource`` (from
    ``Locks.acquire`` or ``hold``), and the write it guards goes in the same transaction.
    Raises ``FencingError`` (409, ``stale-fencing-token``) when the resource already
    accepted a larger token: the caller's lease ended and a newer holder wrote; the
    transaction must not commit.
    """
    check_resource(resource)
    if not 1 <= token <= _MAX_TOKEN:
        raise InvalidLockRequestError(f"a fencing token is an integer from 1 to 2**63 - 1, got {token!r}")
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = module.insert(LockFence).values(resource=resource, token=token)
    upsert = insert.on_conflict_do_update(
        index_elements=[LockFence.resource],
        set_={"token": insert.excluded.token},
        where=LockFence.token <= insert.excluded.token,
    ).returning(LockFence.token)
    if (await session.execute(upsert)).scalar_one_or_none() is not None:
        return
    newest = await session.scalar(select(LockFence.token).where(LockFence.resource == resource))
    raise FencingError(
        f"fencing token {token} for {resource!r} is older than {newest}, which the resource already "
        "accepted: this holder's lease ended and a newer holder wrote",
        resource=resource,
        token=token,
        newest_token=newest,
    )
