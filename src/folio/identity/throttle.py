"""Login throttling: the per-IP and per-account attempt windows in front of password checks.

Two moving windows guard ``authenticate_password``: ``login_rate_per_ip`` per client IP and
``login_rate_per_account`` per (normalised) address. They count attempts, right or wrong,
so a flood is refused before argon2 runs. The account's window belongs to its owner: when
they prove who they are another way (a password reset) or a manager unlocks them,
:func:`clear_account_throttle` empties it, so "Log in with it now" is not answered "too
many attempts". The per-IP window is never cleared that way: it may hold other accounts'
attempts from the same address.
"""

from __future__ import annotations

import structlog

from folio.core.errors import RateLimitedError
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings

__all__ = ["clear_account_throttle", "throttle_login"]

log = structlog.get_logger(__name__)

_PER_IP = "login-ip"
_PER_ACCOUNT = "login-account"


async def throttle_login(limiter: RateLimiter, settings: Settings, *, client_ip: str, email: str) -> None:
    """Count one login attempt from ``client_ip`` for normalised address ``email``.

    Raises:
        RateLimitedError: either window is full (the per-IP one is checked first, and a
            refusal there does not count against the account).
    """
    limits = (
        (settings.identity.login_rate_per_ip, (_PER_IP, client_ip)),
        (settings.identity.login_rate_per_account, (_PER_ACCOUNT, email)),
    )
    for rate, key in limits:
        decision = await limiter.hit(rate, *key)
        if not decision.allowed:
            log.warning("auth.login_throttled", limit=key[0], client_ip=client_ip)
            raise RateLimitedError(
                "too many login attempts; wait before trying again",
                retry_after_s=max(decision.reset_after_s, 1),
                headers=decision.headers(),
            )


async def clear_account_throttle(limiter: RateLimiter, settings: Settings, *, email: str) -> None:
    """Forget the login attempts counted for normalised address ``email`` (not those per IP)."""
    await limiter.clear(settings.identity.login_rate_per_account, _PER_ACCOUNT, email)
