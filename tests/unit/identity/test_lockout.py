"""The lockout rule: thresholds, doubling durations, the cap, and clearing."""

from __future__ import annotations

import datetime as dt

import pytest

from folio.core.settings import Settings
from folio.identity.lockout import clear_lockout, is_locked, lockout_duration_s, record_failure, retry_after_s
from folio.identity.models import User
from folio.identity.settings import IdentitySettings

pytestmark = pytest.mark.unit

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def identity(settings: Settings) -> IdentitySettings:
    """Threshold 3, first lockout 60 s, cap 600 s."""
    return settings.identity.model_copy(
        update={"lockout_threshold": 3, "lockout_base_s": 60, "lockout_max_s": 600}
    )


def _user() -> User:
    return User(email="ada@example.com", display_name="Ada", failed_login_count=0, lockout_count=0)


def _state(user: User) -> tuple[int, int, dt.datetime | None]:
    return user.failed_login_count, user.lockout_count, user.locked_until


def test_durations_double_up_to_the_cap(identity: IdentitySettings) -> None:
    """60, 120, 240, 480, then 600 (the cap) forever, even for absurd counts."""
    assert [lockout_duration_s(n, settings=identity) for n in range(6)] == [60, 120, 240, 480, 600, 600]
    assert lockout_duration_s(10_000, settings=identity) == 600


def test_the_threshold_failure_locks_and_resets_the_count(identity: IdentitySettings) -> None:
    """Failures below the threshold only count; the one reaching it locks for the base duration."""
    user = _user()
    assert not record_failure(user, now=NOW, settings=identity)
    assert not record_failure(user, now=NOW, settings=identity)
    assert record_failure(user, now=NOW, settings=identity)
    assert (user.failed_login_count, user.lockout_count) == (0, 1)
    assert user.locked_until == NOW + dt.timedelta(seconds=60)
    assert is_locked(user, NOW + dt.timedelta(seconds=59))
    assert not is_locked(user, NOW + dt.timedelta(seconds=60))


def test_clearing_forgets_everything() -> None:
    """``clear_lockout`` unlocks and zeroes both counters."""
    user = _user()
    user.failed_login_count, user.lockout_count, user.locked_until = 2, 3, NOW
    clear_lockout(user)
    assert _state(user) == (0, 0, None)


def test_retry_after_rounds_up_and_is_never_zero() -> None:
    """Partial seconds round up; a lock ending now still says 1."""
    assert retry_after_s(NOW + dt.timedelta(seconds=1.2), NOW) == 2
    assert retry_after_s(NOW, NOW) == 1
