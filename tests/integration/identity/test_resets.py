"""Password resets: mailed single-use, expiring tokens of which only a hash is stored."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.errors import InvalidCredentialsError, ValidationFailedError
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings
from folio.identity.api import authenticate_password, request_password_reset, reset_password
from folio.identity.models import PasswordReset
from folio.mail.api import list_outbox
from tests.integration.identity.conftest import Shop, last_link_token
from tests.support.identity import unique_email

pytestmark = pytest.mark.integration

NEW_PASSWORD = "Second-Chapter-Turns-61"


async def _reset_rows(db: Database, token: str) -> list[PasswordReset]:
    async def work(session: AsyncSession) -> list[PasswordReset]:
        digest = hashlib.sha256(token.encode()).hexdigest()
        return list(
            (await session.scalars(select(PasswordReset).where(PasswordReset.token_hash == digest))).all()
        )

    return await db.run(work)


async def _log_in(db: Database, settings: Settings, limiter: RateLimiter, shop: Shop, password: str) -> bool:
    await authenticate_password(
        db,
        settings=settings,
        limiter=limiter,
        shop_slug=shop.slug,
        email=shop.email,
        password=password,
        client_ip="192.0.2.1",
    )
    return True


async def test_unknown_address_gets_no_mail_and_no_error(
    any_database: Database, identity_settings: Settings
) -> None:
    """Asking for an address nobody has returns quietly and queues nothing."""
    email = unique_email("nobody")
    await request_password_reset(any_database, settings=identity_settings, email=email)
    assert await list_outbox(any_database, recipient=email) == []


async def test_reset_sets_a_new_password(
    any_database: Database, identity_settings: Settings, memory_limiter: RateLimiter, shop: Shop
) -> None:
    """The mailed link sets a new password: the new one logs in, the old one no longer does."""
    await request_password_reset(any_database, settings=identity_settings, email=shop.email.upper())
    mail = (await list_outbox(any_database, recipient=shop.email))[0]
    assert mail.subject == "Reset your Folio password"
    token = await last_link_token(any_database, shop.email)
    await reset_password(
        any_database,
        settings=identity_settings,
        limiter=memory_limiter,
        token=token,
        new_password=NEW_PASSWORD,
    )
    assert await _log_in(any_database, identity_settings, memory_limiter, shop, NEW_PASSWORD)
    with pytest.raises(InvalidCredentialsError):
        await _log_in(any_database, identity_settings, memory_limiter, shop, shop.password)


async def test_only_the_tokens_hash_is_stored(
    any_database: Database, identity_settings: Settings, shop: Shop
) -> None:
    """The reset row holds the SHA-256 of the token, never the token."""
    await request_password_reset(any_database, settings=identity_settings, email=shop.email)
    token = await last_link_token(any_database, shop.email)
    [row] = await _reset_rows(any_database, token)
    assert row.token_hash != token
    assert row.user_id == shop.owner.user_id


async def test_a_token_works_once(
    any_database: Database, identity_settings: Settings, memory_limiter: RateLimiter, shop: Shop
) -> None:
    """A second use of the same token is refused."""
    await request_password_reset(any_database, settings=identity_settings, email=shop.email)
    token = await last_link_token(any_database, shop.email)
    await reset_password(
        any_database,
        settings=identity_settings,
        limiter=memory_limiter,
        token=token,
        new_password=NEW_PASSWORD,
    )
    with pytest.raises(InvalidCredentialsError):
        await reset_password(
            any_database,
            settings=identity_settings,
            limiter=memory_limiter,
            token=token,
            new_password="Third-Chapter-Ends-72",
        )


async def test_using_one_token_spends_the_others(
    any_database: Database, identity_settings: Settings, memory_limiter: RateLimiter, shop: Shop
) -> None:
    """After a reset, an older mail's link stops working too."""
    await request_password_reset(any_database, settings=identity_settings, email=shop.email)
    older = await last_link_token(any_database, shop.email)
    await request_password_reset(any_database, settings=identity_settings, email=shop.email)
    newer = await last_link_token(any_database, shop.email)
    assert newer != older
    await reset_password(
        any_database,
        settings=identity_settings,
        limiter=memory_limiter,
        token=newer,
        new_password=NEW_PASSWORD,
    )
    with pytest.raises(InvalidCredentialsError):
        await reset_password(
            any_database,
            settings=identity_settings,
            limiter=memory_limiter,
            token=older,
            new_password="Third-Chapter-Ends-72",
        )


async def test_a_token_expires(
    any_database: Database, identity_settings: Settings, memory_limiter: RateLimiter, shop: Shop
) -> None:
    """Past ``reset_token_ttl_s`` the token is refused; just before, it works."""
    ttl = identity_settings.identity.reset_token_ttl_s
    await request_password_reset(any_database, settings=identity_settings, email=shop.email)
    token = await last_link_token(any_database, shop.email)
    later = utcnow() + dt.timedelta(seconds=ttl + 1)
    with pytest.raises(InvalidCredentialsError):
        await reset_password(
            any_database,
            settings=identity_settings,
            limiter=memory_limiter,
            token=token,
            new_password=NEW_PASSWORD,
            clock=lambda: later,
        )
    almost = utcnow() + dt.timedelta(seconds=ttl - 5)
    await reset_password(
        any_database,
        settings=identity_settings,
        limiter=memory_limiter,
        token=token,
        new_password=NEW_PASSWORD,
        clock=lambda: almost,
    )


async def test_unknown_token_is_refused(
    any_database: Database, identity_settings: Settings, memory_limiter: RateLimiter
) -> None:
    """A made-up token is InvalidCredentialsError."""
    with pytest.raises(InvalidCredentialsError):
        await reset_password(
            any_database,
            settings=identity_settings,
            limiter=memory_limiter,
            token="made-up",
            new_password=NEW_PASSWORD,
        )


async def test_the_new_password_must_meet_the_policy(
    any_database: Database, identity_settings: Settings, memory_limiter: RateLimiter, shop: Shop
) -> None:
    """A weak new password is refused under ``body.new_password``, and the token stays usable."""
    await request_password_reset(any_database, settings=identity_settings, email=shop.email)
    token = await last_link_token(any_database, shop.email)
    with pytest.raises(ValidationFailedError) as caught:
        await reset_password(
            any_database,
            settings=identity_settings,
            limiter=memory_limiter,
            token=token,
            new_password="short",
        )
    assert {param.name for param in caught.value.extra["errors"]} == {"body.new_password"}
    await reset_password(
        any_database,
        settings=identity_settings,
        limiter=memory_limiter,
        token=token,
        new_password=NEW_PASSWORD,
    )
