"""Logging in with a password: throttling, verification, lockout, rehashing, and the audit trail.

``authenticate_password`` runs in phases so that no transaction stays open while
argon2 works (tens of milliseconds, in a thread):

1. throttle: one hit on ``login_rate_per_ip`` for the client IP, then one on
   ``login_rate_per_account`` for the address (``RateLimitedError``; see
   ``folio.identity.throttle``, which a password reset also clears);
2. read the shop, the user and their membership;
3. verify the password (a dummy hash when there is no account, so the time taken does
   not reveal which addresses exist), and rehash it when the argon2 cost changed;
4. record the outcome in one unit of work, re-reading the user row under a lock: a
   failure counts towards the lockout (``folio.identity.lockout``); the failure that
   reaches the threshold locks the account, mails a reset link and is audited
   ``auth.account_locked``; a success clears the counters.

Every refusal in a known shop is audited ``auth.login_failed`` with its reason and
logged; throttled attempts are only logged (writing a row per refused request would
hand a flood the database). Unknown shop, unknown address, a user who is not a member
of the shop and a wrong password all raise the same ``InvalidCredentialsError``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Literal, NoReturn

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.api import record_event
from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.errors import AccountLockedError, InvalidCredentialsError
from folio.core.ratelimit import RateLimiter
from folio.core.security import CredentialKind, Principal, Role
from folio.core.settings import Settings
from folio.core.tenancy import tenant_scope
from folio.identity.clock import Clock
from folio.identity.lockout import clear_lockout, is_locked, record_failure, retry_after_s
from folio.identity.notifications import queue_lockout_mail
from folio.identity.passwords import hash_password, needs_rehash, verify_dummy, verify_password
from folio.identity.repository import IdentityRepository
from folio.identity.resets import issue_reset_token
from folio.identity.schemas import normalise_email
from folio.identity.throttle import throttle_login

__all__ = ["authenticate_password"]

log = structlog.get_logger(__name__)

FailureReason = Literal["unknown_account", "no_password", "wrong_password", "locked"]


@dataclass(frozen=True)
class _Shop:
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class _Account:
    """A member of the shop, as read before verification."""

    user_id: uuid.UUID
    password_hash: str | None
    locked_until: dt.datetime | None


@dataclass(frozen=True)
class _Attempt:
    """One login attempt: who asked, where, and what phase 2 found."""

    shop: _Shop
    email: str
    client_ip: str
    account: _Account | None


@dataclass(frozen=True)
class _Granted:
    role: Role


@dataclass(frozen=True)
class _Locked:
    locked_until: dt.datetime


@dataclass(frozen=True)
class _Refused:
    pass


_Outcome = _Granted | _Locked | _Refused


def _invalid() -> InvalidCredentialsError:
    return InvalidCredentialsError("the shop, e-mail address or password is wrong")


async def _find_shop(db: Database, slug: str) -> _Shop | None:
    async def work(session: AsyncSession) -> _Shop | None:
        tenant = await IdentityRepository(session).tenant_by_slug(slug.strip().lower())
        return None if tenant is None else _Shop(id=tenant.id, name=tenant.name)

    # The primary: a shop registered a moment ago may not have reached the replica, and
    # its owner's first login must not be told the shop does not exist.
    return await db.run(work)


async def _find_account(db: Database, shop: _Shop, email: str) -> _Account | None:
    async def work(session: AsyncSession) -> _Account | None:
        repo = IdentityRepository(session)
        user = await repo.user_by_email(email)
        if user is None or await repo.membership(user.id) is None:
            return None
        return _Account(user_id=user.id, password_hash=user.password_hash, locked_until=user.locked_until)

    # The primary: the lock state must be current, not a replica's.
    with tenant_scope(shop.id):
        return await db.run(work)


async def _verify(password_hash: str, password: str, settings: Settings) -> bool:
    return await asyncio.to_thread(verify_password, password_hash, password, settings=settings.identity)


async def _audit_failure(session: AsyncSession, attempt: _Attempt, reason: FailureReason) -> None:
    user_id = attempt.account.user_id if attempt.account is not None else None
    await record_event(
        session,
        tenant_id=attempt.shop.id,
        actor_kind="anonymous",
        actor_id=None,
        action="auth.login_failed",
        entity_type="user",
        entity_id=None if user_id is None else str(user_id),
        after={"reason": reason, "email": attempt.email, "client_ip": attempt.client_ip},
    )


async def _record_failure(
    db: Database, attempt: _Attempt, reason: FailureReason, *, settings: Settings, clock: Clock
) -> _Locked | _Refused:
    """Audit the failure and, for a member, count it towards the lockout (locking at the threshold)."""

    async def work(session: AsyncSession) -> _Locked | _Refused:
        repo = IdentityRepository(session)
        await _audit_failure(session, attempt, reason)
        account = attempt.account
        user = None if account is None else await repo.user_by_id(account.user_id, for_update=True)
        if user is None or reason == "locked":
            return _Refused()
        now = clock()
        if is_locked(user, now) and user.locked_until is not None:  # locked by a concurrent attempt
            return _Locked(user.locked_until)
        if not record_failure(user, now=now, settings=settings.identity) or user.locked_until is None:
            return _Refused()
        token = issue_reset_token(repo, user_id=user.id, ttl_s=settings.identity.reset_token_ttl_s, now=now)
        await queue_lockout_mail(
            session,
            settings=settings,
            email=user.email,
            shop_name=attempt.shop.name,
            locked_until=user.locked_until,
            token=token,
        )
        await record_event(
            session,
            tenant_id=attempt.shop.id,
            actor_kind="system",
            actor_id=None,
            action="auth.account_locked",
            entity_type="user",
            entity_id=str(user.id),
            after={"locked_until": user.locked_until, "lockout_count": user.lockout_count},
        )
        return _Locked(user.locked_until)

    with tenant_scope(attempt.shop.id):
        return await db.run(work)


async def _record_success(
    db: Database, attempt: _Attempt, account: _Account, *, new_hash: str | None, clock: Clock
) -> _Outcome:
    """Clear the counters, store an upgraded hash, audit the login; refuse if the account changed since."""

    async def work(session: AsyncSession) -> _Outcome:
        repo = IdentityRepository(session)
        user = await repo.user_by_id(account.user_id, for_update=True)
        membership = None if user is None else await repo.membership(account.user_id)
        if user is None or membership is None or user.password_hash != account.password_hash:
            # Removed from the shop, or the password was reset, since it was read.
            return _Refused()
        now = clock()
        if is_locked(user, now) and user.locked_until is not None:
            return _Locked(user.locked_until)
        clear_lockout(user)
        user.last_login_at = now
        if new_hash is not None:
            user.password_hash = new_hash
        await record_event(
            session,
            tenant_id=attempt.shop.id,
            actor_kind="user",
            actor_id=user.id,
            action="auth.login_succeeded",
            entity_type="user",
            entity_id=str(user.id),
            after={"client_ip": attempt.client_ip, "rehashed": new_hash is not None},
        )
        return _Granted(Role(membership.role))

    with tenant_scope(attempt.shop.id):
        return await db.run(work)


def _refuse(outcome: _Locked | _Refused, attempt: _Attempt | None, reason: str, clock: Clock) -> NoReturn:
    """Log the refusal and raise the error it maps to."""
    log.info(
        "auth.login_failed",
        reason=reason,
        tenant_id=None if attempt is None else str(attempt.shop.id),
        user_id=None if attempt is None or attempt.account is None else str(attempt.account.user_id),
    )
    if isinstance(outcome, _Locked):
        raise AccountLockedError(
            "too many failed logins locked this account; wait, or set a new password with the link we mailed",
            retry_after_s=retry_after_s(outcome.locked_until, clock()),
        )
    raise _invalid()


def _failure_reason(account: _Account | None) -> FailureReason:
    if account is None:
        return "unknown_account"
    return "no_password" if account.password_hash is None else "wrong_password"


async def authenticate_password(
    db: Database,
    *,
    settings: Settings,
    limiter: RateLimiter,
    shop_slug: str,
    email: str,
    password: str,
    client_ip: str,
    clock: Clock = utcnow,
    via: CredentialKind = "session",
) -> Principal:
    """The principal for a member's password login to shop ``shop_slug`` (see the module docstring).

    ``via`` is the credential the principal is recorded as having used (the web app's
    session by default). ``clock`` is a seam for tests.

    Raises:
        RateLimitedError: too many attempts from ``client_ip`` or for ``email``.
        AccountLockedError: the account is locked (also raised by the failure that locks it).
        InvalidCredentialsError: unknown shop or address, not a member, or a wrong password.
    """
    address = normalise_email(email)
    await throttle_login(limiter, settings, client_ip=client_ip, email=address)
    shop = await _find_shop(db, shop_slug)
    if shop is None:
        await asyncio.to_thread(verify_dummy, password, settings=settings.identity)
        _refuse(_Refused(), None, "unknown_shop", clock)
    account = await _find_account(db, shop, address)
    attempt = _Attempt(shop=shop, email=address, client_ip=client_ip, account=account)
    if account is not None and account.locked_until is not None and account.locked_until > clock():
        await _record_failure(db, attempt, "locked", settings=settings, clock=clock)
        _refuse(_Locked(account.locked_until), attempt, "locked", clock)
    if account is None or account.password_hash is None:
        # No account, or an invited member who never set a password: spend a real verification's time.
        await asyncio.to_thread(verify_dummy, password, settings=settings.identity)
    if (
        account is None
        or account.password_hash is None
        or not await _verify(account.password_hash, password, settings)
    ):
        reason = _failure_reason(account)
        failure = await _record_failure(db, attempt, reason, settings=settings, clock=clock)
        _refuse(failure, attempt, reason, clock)
    new_hash = None
    if needs_rehash(account.password_hash, settings=settings.identity):
        new_hash = await asyncio.to_thread(hash_password, password, settings=settings.identity)
    outcome = await _record_success(db, attempt, account, new_hash=new_hash, clock=clock)
    if isinstance(outcome, _Locked | _Refused):
        _refuse(outcome, attempt, "changed_meanwhile", clock)
    log.info(
        "auth.login_succeeded",
        tenant_id=str(shop.id),
        user_id=str(account.user_id),
        rehashed=new_hash is not None,
    )
    return Principal(tenant_id=shop.id, role=outcome.role, user_id=account.user_id, via=via)
