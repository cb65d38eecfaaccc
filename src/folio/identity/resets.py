"""Password resets: single-use, expiring tokens mailed as links; only their SHA-256 is stored.

The same tokens serve three mails: a reset the member asked for, the lockout notice
(setting a new password unlocks the account) and a new member's invitation (they
choose their first password with it). Using one token spends every other open token
of the same user, so an old mail's link stops working once the password changed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.errors import InvalidCredentialsError
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings
from folio.identity.clock import Clock
from folio.identity.lockout import clear_lockout
from folio.identity.models import PasswordReset
from folio.identity.notifications import queue_reset_mail
from folio.identity.passwords import ensure_password_acceptable, hash_password
from folio.identity.repository import IdentityRepository
from folio.identity.schemas import normalise_email
from folio.identity.throttle import clear_account_throttle

__all__ = ["INVITATION_TTL_S", "hash_token", "issue_reset_token", "request_password_reset", "reset_password"]

log = structlog.get_logger(__name__)

INVITATION_TTL_S = 7 * 86_400
"""How long an invitation's set-your-password link works (longer than a reset's: people take days)."""

TOKEN_BYTES = 32
"""Random bytes in a token (256 bits: no need for a slow hash, SHA-256 is enough)."""


def hash_token(token: str) -> str:
    """The hex SHA-256 of ``token``: what is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_reset_token(repo: IdentityRepository, *, user_id: uuid.UUID, ttl_s: int, now: dt.datetime) -> str:
    """Stage a reset for ``user_id`` valid ``ttl_s`` from ``now``; return the token (never stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    repo.add(
        PasswordReset(
            user_id=user_id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=ttl_s),
        )
    )
    return token


async def request_password_reset(
    db: Database, *, settings: Settings, email: str, clock: Clock = utcnow
) -> None:
    """Mail a reset link to ``email`` if it belongs to a user; return the same way either way.

    The caller learns nothing about whether the account exists; the log does.
    """
    address = normalise_email(email)

    async def work(session: AsyncSession) -> bool:
        repo = IdentityRepository(session)
        user = await repo.user_by_email(address)
        if user is None:
            return False
        token = issue_reset_token(
            repo, user_id=user.id, ttl_s=settings.identity.reset_token_ttl_s, now=clock()
        )
        await queue_reset_mail(session, settings=settings, email=user.email, token=token)
        return True

    known = await db.run(work)
    log.info("auth.password_reset_requested", known_account=known)


@dataclass(frozen=True)
class _ResetTarget:
    user_id: uuid.UUID
    email: str


def _usable(reset: PasswordReset | None, now: dt.datetime) -> PasswordReset:
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise InvalidCredentialsError("the reset link is invalid, used or expired; ask for a new one")
    return reset


async def _reset_target(db: Database, token_hash: str, now: dt.datetime) -> _ResetTarget:
    async def work(session: AsyncSession) -> _ResetTarget:
        repo = IdentityRepository(session)
        reset = _usable(await repo.password_reset(token_hash), now)
        user = await repo.user_by_id(reset.user_id)
        if user is None:  # pragma: no cover - the reset cascades away with its user
            raise InvalidCredentialsError("the reset link is invalid, used or expired; ask for a new one")
        return _ResetTarget(user_id=user.id, email=user.email)

    # The primary (not readonly): a replica may not have the reset mailed a moment ago.
    return await db.run(work)


async def reset_password(
    db: Database,
    *,
    settings: Settings,
    limiter: RateLimiter,
    token: str,
    new_password: str,
    clock: Clock = utcnow,
) -> None:
    """Set a new password with a reset token; the token is spent and the account unlocked.

    Unlocked means able to log in at once: the lockout and its counters are cleared with the
    new password, and then the account's login-throttling window in ``limiter`` (the per-IP
    windows, which other accounts share, are left alone), once the new password is committed.

    Raises:
        InvalidCredentialsError: the token is unknown, already used or expired.
        ValidationFailedError: the new password breaks the policy (``body.new_password``).
    """
    token_hash = hash_token(token)
    target = await _reset_target(db, token_hash, clock())
    ensure_password_acceptable(
        new_password, email=target.email, settings=settings.identity, field="body.new_password"
    )
    new_hash = await asyncio.to_thread(hash_password, new_password, settings=settings.identity)

    async def work(session: AsyncSession) -> None:
        repo = IdentityRepository(session)
        now = clock()
        # Locked and re-checked: two requests with the same token must not both succeed.
        reset = _usable(await repo.password_reset(token_hash, for_update=True), now)
        user = await repo.user_by_id(reset.user_id, for_update=True)
        if user is None:  # pragma: no cover - the reset cascades away with its user
            raise InvalidCredentialsError("the reset link is invalid, used or expired; ask for a new one")
        for open_reset in await repo.open_password_resets(user.id):
            open_reset.used_at = now
        user.password_hash = new_hash
        clear_lockout(user)

    await db.run(work)
    await clear_account_throttle(limiter, settings, email=target.email)
    log.info("auth.password_reset", user_id=str(target.user_id))
