"""Account lockout: the rule that turns repeated failed logins into a growing wait.

After ``identity.lockout_threshold`` consecutive failures an account is locked for
``lockout_base_s * 2**lockout_count`` seconds, capped at ``lockout_max_s``, and
``lockout_count`` grows by one: each lockout lasts twice the one before. A successful
login, a password reset or a manager's unlock clears the lock and both counters.
"""

from __future__ import annotations

import datetime as dt
import math

from folio.identity.models import User
from folio.identity.settings import IdentitySettings

__all__ = ["clear_lockout", "is_locked", "lockout_duration_s", "record_failure", "retry_after_s"]

_MAX_EXPONENT = 40
"""Doubling beyond this cannot matter (it is past any cap) and would only build huge integers."""


def lockout_duration_s(lockout_count: int, *, settings: IdentitySettings) -> int:
    """How long the next lockout lasts, for an account locked ``lockout_count`` times before."""
    exponent = min(max(lockout_count, 0), _MAX_EXPONENT)
    return min(settings.lockout_base_s * (1 << exponent), settings.lockout_max_s)


def is_locked(user: User, now: dt.datetime) -> bool:
    """Whether ``user`` is locked out at ``now``."""
    return user.locked_until is not None and user.locked_until > now


def retry_after_s(locked_until: dt.datetime, now: dt.datetime) -> int:
    """Whole seconds until ``locked_until`` (at least 1)."""
    return max(1, math.ceil((locked_until - now).total_seconds()))


def record_failure(user: User, *, now: dt.datetime, settings: IdentitySettings) -> bool:
    """Count one failed login on ``user``; lock it when that reaches the threshold. True when it locked.

    Locking sets ``locked_until``, bumps ``lockout_count`` and starts the failure count afresh.
    """
    user.failed_login_count += 1
    if user.failed_login_count < settings.lockout_threshold:
        return False
    user.locked_until = now + dt.timedelta(seconds=lockout_duration_s(user.lockout_count, settings=settings))
    user.lockout_count += 1
    user.failed_login_count = 0
    return True


def clear_lockout(user: User) -> None:
    """Unlock ``user`` and reset both counters."""
    user.locked_until = None
    user.failed_login_count = 0
    user.lockout_count = 0
