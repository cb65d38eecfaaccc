"""Password login: credentials, lockout with doubling backoff, throttling and rehashing."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.api import list_events
from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.errors import AccountLockedError, InvalidCredentialsError, RateLimitedError
from folio.core.ratelimit import RateLimiter
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.identity.api import authenticate_password, reset_password, unlock_member
from folio.identity.models import User
from folio.mail.api import list_outbox
from tests.integration.identity.conftest import (
    Shop,
    add_member_with_password,
    fast_settings,
    last_link_token,
    new_shop,
)
from tests.support.identity import PASSWORD, unique_email, unique_slug

pytestmark = pytest.mark.integration

IP = "198.51.100.7"


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        """The current (fake) time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += dt.timedelta(seconds=seconds)


async def _login(
    db: Database,
    settings: Settings,
    limiter: RateLimiter,
    shop: Shop,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    slug: str | None = None,
    ip: str = IP,
    clock: FakeClock | None = None,
) -> Principal:
    return await authenticate_password(
        db,
        settings=settings,
        limiter=limiter,
        shop_slug=slug or shop.slug,
        email=email or shop.email,
        password=password,
        client_ip=ip,
        clock=clock or utcnow,
    )


async def _user(db: Database, user_id: uuid.UUID) -> User:
    async def work(session: AsyncSession) -> User:
        user = await session.scalar(select(User).where(User.id == user_id))
        assert user is not None
        return user

    return await db.run(work)


async def test_right_password_gives_the_members_principal(
    any_database: Database, identity_settings: Settings, memory_limiter: RateLimiter, shop: Shop
) -> None:
    """The owner logs in (address in any case) and gets an owner principal; the login is audited."""
    principal = await _login(
        any_database, identity_settings, memory_limiter, shop, email=f" {shop.email.upper()} "
    )
    assert (principal.tenant_id, principal.user_id, principal.role) == (
        shop.tenant_id,
        shop.owner.user_id,
        Role.OWNER,
    )
    page = await list_events(
        any_database, settings=identity_settings, principal=shop.owner, action="auth.login_succeeded"
    )
    assert len(page.items) == 1
    assert (await _user(any_database, shop.owner.actor_id)).last_login_at is not None


@pytest.mark.parametrize("case", ["wrong_password", "unknown_email", "unknown_shop", "other_shops_member"])
async def test_every_bad_credential_is_the_same_error(
    any_database: Database, identity_settings: Settings, memory_limiter: RateLimiter, shop: Shop, case: str
) -> None:
    """Wrong password, unknown address, unknown shop, another shop's member: all InvalidCredentialsError."""
    other = await new_shop(any_database, identity_settings)
    email, password, slug = shop.email, PASSWORD, shop.slug
    if case == "wrong_password":
        password = "Wrong-Password-123"
    elif case == "unknown_email":
        email = unique_email()
    elif case == "unknown_shop":
        slug = unique_slug()
    else:
        email = other.email
    with pytest.raises(InvalidCredentialsError) as caught:
        await _login(
            any_database, identity_settings, memory_limiter, shop, email=email, password=password, slug=slug
        )
    assert caught.value.detail == "the shop, e-mail address or password is wrong"


async def test_failures_in_a_known_shop_are_audited_with_their_reason(
    any_database: Database, identity_settings: Settings, memory_limiter: RateLimiter, shop: Shop
) -> None:
    """A wrong password and an unknown address each leave ``auth.login_failed`` with the reason."""
    with pytest.raises(InvalidCredentialsError):
        await _login(any_database, identity_settings, memory_limiter, shop, password="Wrong-Password-123")
    with pytest.raises(InvalidCredentialsError):
        await _login(any_database, identity_settings, memory_limiter, shop, email=unique_email())
    page = await list_events(
        any_database, settings=identity_settings, principal=shop.owner, action="auth.login_failed"
    )
    reasons = sorted(str((event.after or {})["reason"]) for event in page.items)
    assert reasons == ["unknown_account", "wrong_password"]


async def test_threshold_failures_lock_even_the_right_password(
    any_database: Database, identity_settings: Settings, memory_limiter: RateLimiter, shop: Shop
) -> None:
    """The third failure (threshold 3) locks, then even the right password is refused; a mail goes out."""
    for _ in range(2):
        with pytest.raises(InvalidCredentialsError):
            await _login(any_database, identity_settings, memory_limiter, shop, password="Wrong-Password-123")
    with pytest.raises(AccountLockedError) as locked:
        await _login(any_database, identity_settings, memory_limiter, shop, password="Wrong-Password-123")
    assert 55 <= locked.value.retry_after_s <= 60
    with pytest.raises(AccountLockedError):
        await _login(any_database, identity_settings, memory_limiter, shop)
    mails = await list_outbox(any_database, recipient=shop.email)
    assert mails[0].subject == "Your Folio account was locked"
    assert f"{identity_settings.public_url}/app/reset/" in mails[0].body
    locks = await list_events(
        any_database, settings=identity_settings, principal=shop.owner, action="auth.account_locked"
    )
    assert [event.entity_id for event in locks.items] == [str(shop.owner.user_id)]


async def test_reset_link_from_the_lockout_mail_unlocks(
    any_database: Database, identity_settings: Settings, memory_limiter: RateLimiter, shop: Shop
) -> None:
    """Setting a new password with the lockout mail's link lifts the lock at once."""
    for _ in range(3):
        with pytest.raises((InvalidCredentialsError, AccountLockedError)):
            await _login(any_database, identity_settings, memory_limiter, shop, password="Wrong-Password-123")
    token = await last_link_token(any_database, shop.email)
    await reset_password(
        any_database,
        settings=identity_settings,
        limiter=memory_limiter,
        token=token,
        new_password="Fresh-Start-Pass-88",
    )
    principal = await _login(
        any_database, identity_settings, memory_limiter, shop, password="Fresh-Start-Pass-88"
    )
    assert principal.role is Role.OWNER


async def test_a_manager_unlocks_a_member(
    any_database: Database, identity_settings: Settings, memory_limiter: RateLimiter, shop: Shop
) -> None:
    """``unlock_member`` lets a locked staff member log in again and is audited."""
    staff = await add_member_with_password(any_database, identity_settings, shop, Role.STAFF)
    for _ in range(3):
        with pytest.raises((InvalidCredentialsError, AccountLockedError)):
            await _login(
                any_database, identity_settings, memory_limiter, shop, email=staff.email, password="nope"
            )
    member = await unlock_member(
        any_database,
        settings=identity_settings,
        limiter=memory_limiter,
        principal=shop.owner,
        user_id=staff.principal.actor_id,
    )
    assert member.locked is False
    principal = await _login(any_database, identity_settings, memory_limiter, shop, email=staff.email)
    assert principal.role is Role.STAFF
    page = await list_events(
        any_database, settings=identity_settings, principal=shop.owner, action="member.unlocked"
    )
    assert len(page.items) == 1


async def test_a_managers_unlock_also_lifts_the_login_throttling(
    any_database: Database, identity_settings: Settings, redis_limiter: RateLimiter, shop: Shop
) -> None:
    """Locked and throttled on Redis, a member unlocked by a manager logs in at once."""
    tuned = fast_settings(
        identity_settings, login_rate_per_account="4/minute", login_rate_per_ip="100/minute"
    )
    staff = await add_member_with_password(any_database, tuned, shop, Role.STAFF)
    for _ in range(3):
        with pytest.raises((InvalidCredentialsError, AccountLockedError)):
            await _login(any_database, tuned, redis_limiter, shop, email=staff.email, password="nope")
    with pytest.raises(AccountLockedError):
        await _login(any_database, tuned, redis_limiter, shop, email=staff.email)
    with pytest.raises(RateLimitedError):
        await _login(any_database, tuned, redis_limiter, shop, email=staff.email)
    await unlock_member(
        any_database,
        settings=tuned,
        limiter=redis_limiter,
        principal=shop.owner,
        user_id=staff.principal.actor_id,
    )
    assert (await _login(any_database, tuned, redis_limiter, shop, email=staff.email)).role is Role.STAFF


async def test_each_lockout_lasts_twice_the_one_before_up_to_the_cap(
    any_database: Database, settings: Settings, memory_limiter: RateLimiter
) -> None:
    """Lockouts last 60 s, 120 s, then the 200 s cap (threshold 2); a success starts over at 60 s."""
    tuned = fast_settings(settings, lockout_threshold=2, lockout_base_s=60, lockout_max_s=200)
    shop = await new_shop(any_database, tuned)
    clock = FakeClock()

    async def lock() -> int:
        with pytest.raises(InvalidCredentialsError):
            await _login(any_database, tuned, memory_limiter, shop, password="Wrong-1", clock=clock)
        with pytest.raises(AccountLockedError) as locked:
            await _login(any_database, tuned, memory_limiter, shop, password="Wrong-2", clock=clock)
        return locked.value.retry_after_s

    durations = []
    for _ in range(3):
        durations.append(await lock())
        clock.advance(durations[-1] + 1)
    assert durations == [60, 120, 200]
    await _login(any_database, tuned, memory_limiter, shop, clock=clock)
    assert await lock() == 60


async def test_a_success_resets_the_failure_count(
    any_database: Database, identity_settings: Settings, memory_limiter: RateLimiter, shop: Shop
) -> None:
    """Two failures, a success, two failures: never three in a row, so no lock."""
    for _ in range(2):
        for _ in range(2):
            with pytest.raises(InvalidCredentialsError):
                await _login(
                    any_database, identity_settings, memory_limiter, shop, password="Wrong-Password-1"
                )
        await _login(any_database, identity_settings, memory_limiter, shop)
    user = await _user(any_database, shop.owner.actor_id)
    assert (user.failed_login_count, user.lockout_count, user.locked_until) == (0, 0, None)


async def test_lock_expires_with_time(
    any_database: Database, identity_settings: Settings, memory_limiter: RateLimiter, shop: Shop
) -> None:
    """Once ``locked_until`` has passed, the right password works again."""
    clock = FakeClock()
    for _ in range(3):
        with pytest.raises((InvalidCredentialsError, AccountLockedError)):
            await _login(
                any_database, identity_settings, memory_limiter, shop, password="Wrong-1", clock=clock
            )
    clock.advance(61)
    assert (
        await _login(any_database, identity_settings, memory_limiter, shop, clock=clock)
    ).role is Role.OWNER


async def test_an_invited_member_without_a_password_cannot_log_in(
    any_database: Database, identity_settings: Settings, memory_limiter: RateLimiter, shop: Shop
) -> None:
    """A member who never set a password is refused like any wrong password."""
    from folio.identity.api import MemberAdd, add_member

    email = unique_email("invited")
    await add_member(
        any_database,
        settings=identity_settings,
        principal=shop.owner,
        data=MemberAdd(email=email, display_name="Invited", role=Role.STAFF),
    )
    with pytest.raises(InvalidCredentialsError):
        await _login(any_database, identity_settings, memory_limiter, shop, email=email, password="")


@pytest.fixture(params=["memory", "redis"])
def login_limiter(
    request: pytest.FixtureRequest, memory_limiter: RateLimiter, redis_limiter: RateLimiter
) -> RateLimiter:
    """An in-process limiter, then one on Redis."""
    return memory_limiter if request.param == "memory" else redis_limiter


async def test_login_attempts_are_throttled_per_ip(
    any_database: Database, identity_settings: Settings, shop: Shop, login_limiter: RateLimiter
) -> None:
    """Past ``login_rate_per_ip`` from one IP, even the right password is refused with 429 and Retry-After."""
    limiter = login_limiter
    tuned = fast_settings(
        identity_settings, login_rate_per_ip="3/minute", login_rate_per_account="100/minute"
    )
    for _ in range(3):
        with pytest.raises(InvalidCredentialsError):
            await _login(any_database, tuned, limiter, shop, email=unique_email())
    with pytest.raises(RateLimitedError) as throttled:
        await _login(any_database, tuned, limiter, shop)
    assert throttled.value.retry_after_s >= 1
    assert throttled.value.headers["Retry-After"] == str(throttled.value.retry_after_s)
    assert (await _login(any_database, tuned, limiter, shop, ip="198.51.100.8")).role is Role.OWNER


async def test_login_attempts_are_throttled_per_account(
    any_database: Database, identity_settings: Settings, redis_limiter: RateLimiter, shop: Shop
) -> None:
    """Past ``login_rate_per_account`` for one address, every IP is refused for it; other accounts are not."""
    tuned = fast_settings(
        identity_settings, login_rate_per_ip="100/minute", login_rate_per_account="2/minute"
    )
    for n in range(2):
        with pytest.raises(InvalidCredentialsError):
            await _login(any_database, tuned, redis_limiter, shop, password="Wrong-1", ip=f"203.0.113.{n}")
    with pytest.raises(RateLimitedError):
        await _login(any_database, tuned, redis_limiter, shop, ip="203.0.113.9", email=shop.email.upper())
    staff = await add_member_with_password(any_database, tuned, shop, Role.STAFF)
    assert (await _login(any_database, tuned, redis_limiter, shop, email=staff.email)).role is Role.STAFF


async def test_login_rehashes_when_the_argon2_cost_changed(
    any_database: Database, identity_settings: Settings, memory_limiter: RateLimiter, shop: Shop
) -> None:
    """After the cost goes up, the next login stores a hash with the new parameters; it keeps working."""
    before = (await _user(any_database, shop.owner.actor_id)).password_hash
    assert before is not None
    assert "t=1," in before
    costlier = fast_settings(identity_settings, argon2_time_cost=2)
    await _login(any_database, costlier, memory_limiter, shop)
    after = (await _user(any_database, shop.owner.actor_id)).password_hash
    assert after is not None
    assert after != before
    assert "t=2," in after
    assert (await _login(any_database, costlier, memory_limiter, shop)).role is Role.OWNER
    await _login(any_database, costlier, memory_limiter, shop)
    assert (await _user(any_database, shop.owner.actor_id)).password_hash == after
