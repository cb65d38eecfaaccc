"""Refresh tokens against real databases: rotation, reuse detection, logout, membership re-checks."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import jwt
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.models import AuditEvent
from folio.core.db import Database
from folio.core.errors import InvalidCredentialsError
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.core.tenancy import tenant_filter, tenant_scope
from folio.identity.models import Membership, RefreshToken
from folio.identity.schemas import TokenPair
from folio.identity.tokens import (
    issue_token_pair,
    refresh_token_pair,
    revoke_refresh_family,
    verify_access_token,
)
from tests.support.identity import create_member

pytestmark = pytest.mark.integration


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


async def _family(db: Database, principal: Principal, family: str) -> list[RefreshToken]:
    async def work(session: AsyncSession) -> list[RefreshToken]:
        rows = await session.scalars(
            select(RefreshToken)
            .where(tenant_filter(RefreshToken), RefreshToken.family_id == uuid.UUID(family))
            .order_by(RefreshToken.issued_at)
        )
        return list(rows)

    with tenant_scope(principal.tenant_id):
        return await db.run(work, readonly=False)


async def _events(db: Database, principal: Principal, action: str) -> list[AuditEvent]:
    async def work(session: AsyncSession) -> list[AuditEvent]:
        rows = await session.scalars(
            select(AuditEvent).where(tenant_filter(AuditEvent), AuditEvent.action == action)
        )
        return list(rows)

    with tenant_scope(principal.tenant_id):
        return await db.run(work)


async def _signed_in(
    db: Database, settings: Settings, role: Role = Role.STAFF
) -> tuple[Principal, TokenPair]:
    owner = await create_member(db)
    member = owner if role is Role.OWNER else await create_member(db, role=role, tenant_id=owner.tenant_id)
    return member, await issue_token_pair(db, settings=settings, principal=member)


async def test_issued_pair_verifies_and_is_stored(any_database: Database, settings: Settings) -> None:
    """A new pair's access token names the member; its refresh token starts a stored family."""
    member, pair = await _signed_in(any_database, settings)
    assert verify_access_token(settings, pair.access_token) == member
    assert pair.expires_in == settings.identity.access_ttl_s
    claims = _claims(pair.refresh_token)
    assert claims["typ"] == "refresh"
    rows = await _family(any_database, member, claims["fam"])
    assert [row.id.hex for row in rows] == [claims["jti"]]
    assert rows[0].used_at is None
    assert rows[0].revoked_at is None


async def test_refresh_rotates_within_the_family(any_database: Database, settings: Settings) -> None:
    """Refreshing marks the token used and issues a working successor with the same family and expiry."""
    member, first = await _signed_in(any_database, settings)
    second = await refresh_token_pair(any_database, settings=settings, refresh_token=first.refresh_token)
    assert verify_access_token(settings, second.access_token) == member
    old, new = _claims(first.refresh_token), _claims(second.refresh_token)
    assert new["fam"] == old["fam"]
    assert new["jti"] != old["jti"]
    assert new["exp"] == old["exp"]  # rotation never extends the family's life
    third = await refresh_token_pair(any_database, settings=settings, refresh_token=second.refresh_token)
    rows = await _family(any_database, member, old["fam"])
    assert len(rows) == 3
    assert {row.id.hex for row in rows if row.used_at is None} == {_claims(third.refresh_token)["jti"]}


async def test_refresh_carries_the_current_role(any_database: Database, settings: Settings) -> None:
    """A role changed since login is what the refreshed access token says."""
    member, pair = await _signed_in(any_database, settings, Role.STAFF)

    async def promote(session: AsyncSession) -> None:
        await session.execute(
            update(Membership)
            .where(tenant_filter(Membership), Membership.user_id == member.user_id)
            .values(role=Role.ADMIN.value)
        )

    with tenant_scope(member.tenant_id):
        await any_database.run(promote)
    refreshed = await refresh_token_pair(any_database, settings=settings, refresh_token=pair.refresh_token)
    assert verify_access_token(settings, refreshed.access_token).role is Role.ADMIN


async def test_reusing_a_refresh_token_revokes_the_family(any_database: Database, settings: Settings) -> None:
    """Presenting a used token again is refused, revokes every token of its family, and is audited."""
    member, first = await _signed_in(any_database, settings)
    second = await refresh_token_pair(any_database, settings=settings, refresh_token=first.refresh_token)

    with pytest.raises(InvalidCredentialsError):
        await refresh_token_pair(any_database, settings=settings, refresh_token=first.refresh_token)
    # The successor (perhaps the thief's) died with the family.
    with pytest.raises(InvalidCredentialsError):
        await refresh_token_pair(any_database, settings=settings, refresh_token=second.refresh_token)

    family = _claims(first.refresh_token)["fam"]
    rows = await _family(any_database, member, family)
    assert all(row.revoked_at is not None for row in rows)
    events = await _events(any_database, member, "auth.refresh_reuse_detected")
    assert [event.entity_id for event in events] == [str(uuid.UUID(family))] * len(events)
    assert len(events) == 2  # the replay, then the successor presented after revocation
    assert events[0].actor_id == member.user_id


async def test_reuse_does_not_touch_other_families(any_database: Database, settings: Settings) -> None:
    """Revoking one family (one device's session) leaves the member's other sessions working."""
    member, phone = await _signed_in(any_database, settings)
    laptop = await issue_token_pair(any_database, settings=settings, principal=member)
    await refresh_token_pair(any_database, settings=settings, refresh_token=phone.refresh_token)
    with pytest.raises(InvalidCredentialsError):
        await refresh_token_pair(any_database, settings=settings, refresh_token=phone.refresh_token)
    await refresh_token_pair(any_database, settings=settings, refresh_token=laptop.refresh_token)


async def test_logout_revokes_the_family(any_database: Database, settings: Settings) -> None:
    """After logout neither the presented refresh token nor any successor refreshes."""
    member, first = await _signed_in(any_database, settings)
    second = await refresh_token_pair(any_database, settings=settings, refresh_token=first.refresh_token)
    await revoke_refresh_family(any_database, settings=settings, refresh_token=second.refresh_token)
    await revoke_refresh_family(
        any_database, settings=settings, refresh_token=second.refresh_token
    )  # idempotent
    with pytest.raises(InvalidCredentialsError):
        await refresh_token_pair(any_database, settings=settings, refresh_token=second.refresh_token)
    rows = await _family(any_database, member, _claims(first.refresh_token)["fam"])
    assert all(row.revoked_at is not None for row in rows)


async def test_logout_accepts_an_expired_refresh_token(any_database: Database, settings: Settings) -> None:
    """A client can always end its session, even with a stale token; the signature still counts."""
    expiring = settings.model_copy(
        update={"identity": settings.identity.model_copy(update={"refresh_ttl_s": -1})}
    )
    member, pair = await _signed_in(any_database, expiring)
    await revoke_refresh_family(any_database, settings=settings, refresh_token=pair.refresh_token)
    rows = await _family(any_database, member, _claims(pair.refresh_token)["fam"])
    assert rows[0].revoked_at is not None
    with pytest.raises(InvalidCredentialsError):
        await revoke_refresh_family(any_database, settings=settings, refresh_token=pair.access_token)


async def test_expired_refresh_token_is_rejected(any_database: Database, settings: Settings) -> None:
    """A refresh token past its expiry does not refresh."""
    expiring = settings.model_copy(
        update={"identity": settings.identity.model_copy(update={"refresh_ttl_s": -1})}
    )
    _, pair = await _signed_in(any_database, expiring)
    with pytest.raises(InvalidCredentialsError):
        await refresh_token_pair(any_database, settings=settings, refresh_token=pair.refresh_token)


async def test_refresh_row_expiry_is_enforced(any_database: Database, settings: Settings) -> None:
    """The stored expiry is the authority: a row expired early (by an operator) does not refresh."""
    member, pair = await _signed_in(any_database, settings)

    async def expire(session: AsyncSession) -> None:
        await session.execute(
            update(RefreshToken)
            .where(tenant_filter(RefreshToken), RefreshToken.user_id == member.user_id)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )

    with tenant_scope(member.tenant_id):
        await any_database.run(expire)
    with pytest.raises(InvalidCredentialsError):
        await refresh_token_pair(any_database, settings=settings, refresh_token=pair.refresh_token)


async def test_removed_member_cannot_refresh(any_database: Database, settings: Settings) -> None:
    """Once the member leaves the shop their refresh fails, and their family is revoked."""
    member, pair = await _signed_in(any_database, settings)

    async def remove(session: AsyncSession) -> None:
        await session.execute(
            delete(Membership).where(tenant_filter(Membership), Membership.user_id == member.user_id)
        )

    with tenant_scope(member.tenant_id):
        await any_database.run(remove)
    with pytest.raises(InvalidCredentialsError):
        await refresh_token_pair(any_database, settings=settings, refresh_token=pair.refresh_token)
    rows = await _family(any_database, member, _claims(pair.refresh_token)["fam"])
    assert all(row.revoked_at is not None for row in rows)


async def test_access_token_cannot_refresh(any_database: Database, settings: Settings) -> None:
    """An access token presented as a refresh token is refused."""
    _, pair = await _signed_in(any_database, settings)
    with pytest.raises(InvalidCredentialsError):
        await refresh_token_pair(any_database, settings=settings, refresh_token=pair.access_token)


def _resigned(settings: Settings, token: str, **changes: Any) -> str:
    """``token`` with ``changes`` to its claims, re-signed with the real active key (an insider forgery)."""
    kid = settings.identity.jwt_active_kid
    key = settings.identity.jwt_keys[kid].get_secret_value()
    return jwt.encode(_claims(token) | changes, key, algorithm="HS256", headers={"kid": kid})


async def test_unknown_refresh_token_is_rejected(any_database: Database, settings: Settings) -> None:
    """A validly signed refresh token whose jti was never stored does not refresh."""
    _, pair = await _signed_in(any_database, settings)
    forged = _resigned(settings, pair.refresh_token, jti=uuid.uuid4().hex)
    with pytest.raises(InvalidCredentialsError):
        await refresh_token_pair(any_database, settings=settings, refresh_token=forged)


async def test_refresh_token_cannot_move_to_another_shop(any_database: Database, settings: Settings) -> None:
    """A stored token re-labelled with another shop (or another user) is not found there."""
    _, pair = await _signed_in(any_database, settings)
    other = await create_member(any_database)
    for changes in ({"tid": str(other.tenant_id)}, {"sub": str(other.user_id)}):
        with pytest.raises(InvalidCredentialsError):
            await refresh_token_pair(
                any_database,
                settings=settings,
                refresh_token=_resigned(settings, pair.refresh_token, **changes),
            )
    # The genuine token was not used up by the forgeries.
    await refresh_token_pair(any_database, settings=settings, refresh_token=pair.refresh_token)


async def test_concurrent_refreshes_let_exactly_one_through(
    pg_database: Database, settings: Settings
) -> None:
    """Two simultaneous refreshes with one token: the row lock serialises them; one wins, one is reuse."""
    member, pair = await _signed_in(pg_database, settings)
    results = await asyncio.gather(
        refresh_token_pair(pg_database, settings=settings, refresh_token=pair.refresh_token),
        refresh_token_pair(pg_database, settings=settings, refresh_token=pair.refresh_token),
        return_exceptions=True,
    )
    assert sorted(type(result).__name__ for result in results) == ["InvalidCredentialsError", "TokenPair"]
    rows = await _family(pg_database, member, _claims(pair.refresh_token)["fam"])
    assert len(rows) == 2
    assert all(row.revoked_at is not None for row in rows)


async def test_refresh_rows_are_isolated_by_row_level_security(
    pg_database: Database, settings: Settings
) -> None:
    """On PostgreSQL another shop's scope sees none of a member's refresh tokens."""
    member, pair = await _signed_in(pg_database, settings)
    other = await create_member(pg_database)

    async def count_all(session: AsyncSession) -> int:
        family = uuid.UUID(_claims(pair.refresh_token)["fam"])
        return len(list(await session.scalars(select(RefreshToken).where(RefreshToken.family_id == family))))

    with tenant_scope(other.tenant_id):
        assert await pg_database.run(count_all) == 0
    with tenant_scope(member.tenant_id):
        assert await pg_database.run(count_all) == 1


async def test_token_times_are_whole_seconds(any_database: Database, settings: Settings) -> None:
    """Stored issue and expiry times match the token's integer claims exactly."""
    member, pair = await _signed_in(any_database, settings)
    claims = _claims(pair.refresh_token)
    (row,) = await _family(any_database, member, claims["fam"])
    assert row.issued_at == dt.datetime.fromtimestamp(claims["iat"], dt.UTC)
    assert row.expires_at == dt.datetime.fromtimestamp(claims["exp"], dt.UTC)
