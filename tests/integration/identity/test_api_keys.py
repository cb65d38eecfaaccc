"""API keys: shown once, stored as a hash, scoped to their shop, refused once revoked."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.cache import Caches
from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.errors import InvalidCredentialsError, NotFoundError, PermissionDeniedError
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.core.tenancy import tenant_scope
from folio.identity.api import (
    ApiKeyCreate,
    ApiKeyIssued,
    VerifiedApiKeys,
    authenticate_api_key,
    create_api_key,
    last_used_buffer,
    list_api_keys,
    revoke_api_key,
)
from folio.identity.models import ApiKey
from tests.integration.identity.conftest import Shop, new_shop

pytestmark = pytest.mark.integration


async def _issue(db: Database, principal: Principal, role: Role = Role.STAFF) -> ApiKeyIssued:
    return await create_api_key(db, principal=principal, data=ApiKeyCreate(name="POS sync", role=role))


async def _row(db: Database, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    async def work(session: AsyncSession) -> ApiKey:
        row = await session.scalar(select(ApiKey).where(ApiKey.id == key_id))
        assert row is not None
        return row

    with tenant_scope(tenant_id):
        return await db.run(work)


async def test_a_key_is_shown_once_and_only_its_hash_is_stored(any_database: Database, shop: Shop) -> None:
    """The issued key names shop and key; the row keeps SHA-256 of the secret; listings never show it."""
    issued = await _issue(any_database, shop.owner)
    prefix, tenant_hex, key_hex, secret = issued.key.split("_", 3)
    assert (prefix, tenant_hex, key_hex) == ("folio", shop.tenant_id.hex, issued.id.hex)
    row = await _row(any_database, shop.tenant_id, issued.id)
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in row.secret_hash
    [listed] = await list_api_keys(any_database, principal=shop.owner)
    assert listed.id == issued.id
    assert "key" not in listed.model_dump()


async def test_a_key_authenticates_as_its_shop_and_role(any_database: Database, shop: Shop) -> None:
    """The key's principal is its shop, its role, via ``api_key``, with no user."""
    issued = await _issue(any_database, shop.owner, Role.ADMIN)
    principal = await authenticate_api_key(any_database, key=issued.key)
    assert (principal.tenant_id, principal.role, principal.api_key_id, principal.user_id, principal.via) == (
        shop.tenant_id,
        Role.ADMIN,
        issued.id,
        None,
        "api_key",
    )


async def test_last_use_is_recorded_at_most_once_a_minute(any_database: Database, shop: Shop) -> None:
    """``last_used_at`` is set on first use, kept within the minute, moved after it."""
    issued = await _issue(any_database, shop.owner)
    start = utcnow()
    await authenticate_api_key(any_database, key=issued.key, clock=lambda: start)
    assert (await _row(any_database, shop.tenant_id, issued.id)).last_used_at == start
    soon = start + dt.timedelta(seconds=30)
    await authenticate_api_key(any_database, key=issued.key, clock=lambda: soon)
    assert (await _row(any_database, shop.tenant_id, issued.id)).last_used_at == start
    later = start + dt.timedelta(seconds=61)
    await authenticate_api_key(any_database, key=issued.key, clock=lambda: later)
    assert (await _row(any_database, shop.tenant_id, issued.id)).last_used_at == later


async def test_last_use_written_back_reaches_each_shops_row_at_the_flush(
    any_database: Database, shop: Shop, identity_settings: Settings
) -> None:
    """Written back, the rows wait for the flush, then hold the last use (two shops; a gone key skipped)."""
    other = await new_shop(any_database, identity_settings)
    keys = [(shop, await _issue(any_database, shop.owner)), (other, await _issue(any_database, other.owner))]
    buffer = last_used_buffer(any_database)
    start = utcnow()
    for _, issued in keys:
        await authenticate_api_key(any_database, key=issued.key, clock=lambda: start, last_used=buffer)
    later = start + dt.timedelta(seconds=61)
    await authenticate_api_key(any_database, key=keys[0][1].key, clock=lambda: later, last_used=buffer)
    await buffer.write(f"{shop.tenant_id.hex}:{uuid.uuid4().hex}", later)  # a key deleted meanwhile
    assert buffer.pending == 3
    for owner, issued in keys:
        assert (await _row(any_database, owner.tenant_id, issued.id)).last_used_at is None
    await buffer.aclose()
    assert [
        (await _row(any_database, owner.tenant_id, issued.id)).last_used_at for owner, issued in keys
    ] == [
        later,
        start,
    ]


async def test_a_revoked_key_is_refused(any_database: Database, shop: Shop) -> None:
    """After revocation the key no longer authenticates; revoking again changes nothing."""
    issued = await _issue(any_database, shop.owner)
    revoked = await revoke_api_key(any_database, principal=shop.owner, key_id=issued.id)
    assert revoked.revoked_at is not None
    with pytest.raises(InvalidCredentialsError):
        await authenticate_api_key(any_database, key=issued.key)
    again = await revoke_api_key(any_database, principal=shop.owner, key_id=issued.id)
    assert again.revoked_at == revoked.revoked_at


def _tampered(key: str, case: str, other_shop: uuid.UUID) -> str:
    if case == "wrong-secret":
        return key[:-1] + ("A" if key[-1] != "A" else "B")
    if case == "other-shop":
        return key.replace(key.split("_")[1], other_shop.hex, 1)
    if case == "wrong-prefix":
        return key.replace("folio_", "other_", 1)
    return {"malformed": "folio_not_a_key", "empty": ""}[case]


@pytest.mark.parametrize("case", ["wrong-secret", "other-shop", "malformed", "empty", "wrong-prefix"])
async def test_tampered_keys_are_refused(
    any_database: Database, identity_settings: Settings, shop: Shop, case: str
) -> None:
    """A changed secret, another shop's id (shop A's key against shop B) or a malformed key: all refused."""
    other = await new_shop(any_database, identity_settings)
    issued = await _issue(any_database, shop.owner)
    with pytest.raises(InvalidCredentialsError):
        await authenticate_api_key(any_database, key=_tampered(issued.key, case, other.tenant_id))


async def test_only_managers_handle_keys(any_database: Database, shop: Shop) -> None:
    """Staff may not create, list or revoke keys."""
    staff = Principal(tenant_id=shop.tenant_id, role=Role.STAFF, user_id=uuid.uuid4(), via="session")
    with pytest.raises(PermissionDeniedError):
        await _issue(any_database, staff)
    with pytest.raises(PermissionDeniedError):
        await list_api_keys(any_database, principal=staff)
    with pytest.raises(PermissionDeniedError):
        await revoke_api_key(any_database, principal=staff, key_id=uuid.uuid4())


async def test_another_shops_key_is_not_found(
    any_database: Database, identity_settings: Settings, shop: Shop
) -> None:
    """A manager of shop B neither sees nor revokes shop A's keys."""
    other = await new_shop(any_database, identity_settings)
    issued = await _issue(any_database, shop.owner)
    assert await list_api_keys(any_database, principal=other.owner) == []
    with pytest.raises(NotFoundError):
        await revoke_api_key(any_database, principal=other.owner, key_id=issued.id)
    assert (await authenticate_api_key(any_database, key=issued.key)).tenant_id == shop.tenant_id


async def test_a_kept_key_is_answered_from_the_cache_until_revoked(
    any_database: Database, shop: Shop, settings: Settings
) -> None:
    """A key looked up once is kept: a revocation behind the service goes unseen until ``forget``."""
    issued = await _issue(any_database, shop.owner)
    caches = Caches(settings.cache.model_copy(update={"backend": "memory", "url": None}))
    try:
        kept = VerifiedApiKeys(any_database, caches.named("test.api_keys"))
        first = await kept.principal(issued.key)
        assert (first.role, first.api_key_id, first.via) == (Role.STAFF, issued.id, "api_key")

        async def revoke_behind(session: AsyncSession) -> None:
            row = await session.scalar(select(ApiKey).where(ApiKey.id == issued.id))
            assert row is not None
            row.revoked_at = utcnow()

        with tenant_scope(shop.tenant_id):
            await any_database.run(revoke_behind)
        assert (await kept.principal(issued.key)) == first  # kept: no lookup
        await kept.forget(issued.id)
        with pytest.raises(InvalidCredentialsError):
            await kept.principal(issued.key)
        with pytest.raises(InvalidCredentialsError):  # refusals are not kept either way
            await kept.principal(issued.key.replace(issued.key[-4:], "xxxx"))
    finally:
        await caches.aclose()


async def test_uses_of_a_kept_key_are_still_recorded(
    any_database: Database, shop: Shop, settings: Settings
) -> None:
    """A key answered from the cache still has its use written back (with the use's time)."""
    issued = await _issue(any_database, shop.owner)
    caches = Caches(settings.cache.model_copy(update={"backend": "memory", "url": None}))
    buffer = last_used_buffer(any_database)
    used_at = utcnow() + dt.timedelta(hours=1)
    try:
        kept = VerifiedApiKeys(
            any_database, caches.named("test.api_keys"), last_used=buffer, clock=lambda: used_at
        )
        await kept.principal(issued.key)  # looked up: recorded by the lookup, at its own time
        await kept.principal(issued.key)  # kept: recorded here
        await buffer.aclose()
    finally:
        await caches.aclose()
    assert (await _row(any_database, shop.tenant_id, issued.id)).last_used_at == used_at
