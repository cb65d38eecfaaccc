"""Running one API call: the key check, Stripe's idempotency keys, and the unit of work.

Idempotency follows Stripe's rules, kept in PostgreSQL (``payments_idempotency_keys``,
one row per shop and key, 24 hours):

- The first POST with a key **claims** it in its own short transaction (an
  ``INSERT ... ON CONFLICT``: of many racing requests exactly one inserts), then runs
  the call; the call's changes and its response (status and body) commit in **one**
  transaction, so a response is stored if and only if its effect happened.
- The same key with the same parameters (method, path and decoded body) **replays**
  the stored response byte for byte, with ``Idempotent-Replayed: true``.
- The same key with other parameters is a 400 ``idempotency_error``.
- A request that finds the key still in flight gets a 409 (the library retries 409s
  with backoff, and then gets the replay).
- A call that fails with an error (bad parameters, an unknown id, Folio's own fault)
  changed nothing, and its claim is released: a retry runs it afresh, as Stripe saves
  no result for requests that never executed. A card decline is a result (402) and is
  replayed like a success.
- A claim whose holder died (a crashed process) is taken over once it is older than
  ``payments.idempotency_lease_s``; if the slow holder comes back it finds its claim
  gone and rolls its work back.
- Expired keys are overwritten when reused and pruned a hundred at a time, now and
  then, by the claims of their shop.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import Database
from folio.core.tenancy import tenant_filter, tenant_scope
from folio.payments.calls import Call, Outcome
from folio.payments.errors import IdempotencyError, IdempotencyKeyInUseError, InvalidRequestError
from folio.payments.ids import random_token
from folio.payments.keys import check_secret_key, parse_secret_key
from folio.payments.models import IdempotencyKey

__all__ = ["MAX_KEY_LENGTH", "Answer", "Operation", "fingerprint", "perform", "prune_expired_keys"]

log = structlog.get_logger(__name__)

MAX_KEY_LENGTH = 255
PRUNE_EVERY = 32
"""About one claim in this many also prunes its shop's expired keys."""
PRUNE_BATCH = 100

Operation = Callable[[AsyncSession, Call], Awaitable[Outcome]]
"""A use case bound to its parameters: runs in the unit of work, returns the answer."""

_IN_FLIGHT = "in_flight"
_DONE = "done"


@dataclass(frozen=True)
class Answer:
    """What the call answers: status, the JSON body as sent, and whether it is a replay."""

    status: int
    body: str
    replayed: bool = False


def _encode(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"))


def fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
    """What makes two requests "the same" for a key: method, path and the decoded parameters."""
    canonical = json.dumps([method.upper(), path, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _insert(session: AsyncSession) -> Any:
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(IdempotencyKey)


async def prune_expired_keys(session: AsyncSession, *, now: dt.datetime, batch: int = PRUNE_BATCH) -> int:
    """Delete up to ``batch`` expired keys of the shop in scope; how many went."""
    expired = (
        select(IdempotencyKey.key)
        .where(tenant_filter(IdempotencyKey), IdempotencyKey.expires_at <= now)
        .limit(batch)
        .scalar_subquery()
    )
    result: Any = await session.execute(
        delete(IdempotencyKey).where(tenant_filter(IdempotencyKey), IdempotencyKey.key.in_(expired))
    )
    return int(result.rowcount)


async def _claim(session: AsyncSession, call: Call, key: str, print_: str, owner: str) -> Answer | None:
    """Claim ``key`` for ``owner`` (None), or answer for it: the replay, a 400 or a 409."""
    settings = call.settings.payments
    if random.randrange(PRUNE_EVERY) == 0:  # noqa: S311 - spreading chores, not security
        await prune_expired_keys(session, now=call.now)
    values = {
        "tenant_id": call.tenant_id,
        "key": key,
        "fingerprint": print_,
        "state": _IN_FLIGHT,
        "owner": owner,
        "locked_at": call.now,
        "response_status": None,
        "response_body": None,
        "created_at": call.now,
        "expires_at": call.now + dt.timedelta(seconds=settings.idempotency_ttl_s),
    }
    statement = _insert(session).values(**values)
    columns = IdempotencyKey.__table__.c
    lease_over = call.now - dt.timedelta(seconds=settings.idempotency_lease_s)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "key"],
        set_={name: statement.excluded[name] for name in values if name not in {"tenant_id", "key"}},
        where=or_(
            columns.expires_at <= call.now,
            and_(columns.state == _IN_FLIGHT, columns.locked_at <= lease_over, columns.fingerprint == print_),
        ),
    ).returning(columns.owner)
    if (await session.execute(statement)).scalar_one_or_none() == owner:
        return None
    row = (
        await session.scalars(
            select(IdempotencyKey).where(tenant_filter(IdempotencyKey), IdempotencyKey.key == key)
        )
    ).one()
    if row.fingerprint != print_:
        raise IdempotencyError(
            "Keys for idempotent requests can only be used with the same parameters they were first "
            "used with. "
            f"Try using a key other than '{key}' if you meant to execute a different request."
        )
    if row.state == _IN_FLIGHT or row.response_status is None or row.response_body is None:
        raise IdempotencyKeyInUseError(
            "There is currently another in-progress request using this Idempotent Key (that probably "
            "means you "
            f"submitted twice, and the other request is still going through): {key}. Please try again later.",
            code="idempotency_key_in_use",
        )
    return Answer(row.response_status, row.response_body, replayed=True)


async def _finish(session: AsyncSession, key: str, owner: str, answer: Answer) -> None:
    """Store ``answer`` for ``key`` in the call's own transaction; refuse if the claim was lost."""
    stored: Any = await session.execute(
        update(IdempotencyKey)
        .where(
            tenant_filter(IdempotencyKey),
            IdempotencyKey.key == key,
            IdempotencyKey.owner == owner,
            IdempotencyKey.state == _IN_FLIGHT,
        )
        .values(state=_DONE, response_status=answer.status, response_body=answer.body)
    )
    if stored.rowcount != 1:
        # Our lease ran out and another request took the key over: its result stands, ours rolls back.
        raise IdempotencyKeyInUseError(
            f"The request with Idempotent Key {key} took too long and was superseded. "
            "Please try again later.",
            code="idempotency_key_in_use",
        )


async def _release(db: Database, key: str, owner: str) -> None:
    async def work(session: AsyncSession) -> None:
        await session.execute(
            delete(IdempotencyKey).where(
                tenant_filter(IdempotencyKey),
                IdempotencyKey.key == key,
                IdempotencyKey.owner == owner,
                IdempotencyKey.state == _IN_FLIGHT,
            )
        )

    await db.run(work)


async def perform(
    db: Database,
    call: Call,
    *,
    secret_key: str,
    operation: Operation,
    fingerprint_: str | None = None,
) -> Answer:
    """Check ``secret_key`` and run ``operation`` for ``call``, once per idempotency key.

    Precondition: ``call.tenant_id`` is the key's shop (``parse_secret_key``). With
    ``call.idempotency_key`` and ``fingerprint_`` set (POSTs) the call follows Stripe's
    idempotency rules (module docstring); without, it simply runs. Every unit runs on
    the primary: Stripe's API reads its own writes, across requests too. Raises
    ``PaymentsError`` for what Stripe would refuse, after the claim is released.
    """
    _, key_id, secret = parse_secret_key(secret_key)
    key = call.idempotency_key
    with tenant_scope(call.tenant_id):
        if key is None or fingerprint_ is None:

            async def plain(session: AsyncSession) -> Answer:
                await check_secret_key(session, secret_key, key_id, secret)
                outcome = await operation(session, call)
                return Answer(outcome.status, _encode(outcome.body))

            return await db.run(plain)
        if len(key) > MAX_KEY_LENGTH:
            raise InvalidRequestError(
                f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters.", param="Idempotency-Key"
            )
        owner = random_token()
        print_ = fingerprint_

        async def claim(session: AsyncSession) -> Answer | None:
            await check_secret_key(session, secret_key, key_id, secret)
            return await _claim(session, call, key, print_, owner)

        replay = await db.run(claim)
        if replay is not None:
            return replay

        async def run(session: AsyncSession) -> Answer:
            outcome = await operation(session, call)
            answer = Answer(outcome.status, _encode(outcome.body))
            await _finish(session, key, owner, answer)
            return answer

        try:
            return await db.run(run)
        except Exception:
            # Nothing committed: free the key so a retry runs the call again. Should that
            # fail too (the database is down), the claim's lease frees it later.
            try:
                await _release(db, key, owner)
            except Exception as exc:  # noqa: BLE001 - the call's own error is the one to raise
                log.warning("payments.idempotency_release_failed", key=key, error=type(exc).__name__)
            raise
