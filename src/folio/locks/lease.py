"""A lease on a lock, and the arithmetic every backend shares: quorum, validity, input checks.

Why validity is less than the TTL: the instances expire a key ``ttl_s`` after *they*
set it, but the holder can only count from before it asked (it cannot know when each
instance acted), and clocks run at slightly different rates. So the holder may rely on
the lock for ``ttl_s`` minus the time the acquisition took minus a drift allowance
(``drift_factor * ttl_s + drift_constant_s``, as in the Redlock description); after
that another client may hold it. Times are ``time.monotonic`` seconds: a wall-clock
jump must not stretch or shrink a lease.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from folio.locks.errors import InvalidLockRequestError

__all__ = [
    "MAX_RESOURCE_LENGTH",
    "MIN_TTL_S",
    "Lease",
    "check_request",
    "check_resource",
    "quorum",
    "validity_s",
]

MIN_TTL_S = 0.01
"""The shortest TTL accepted: below it the drift allowance alone eats the lease."""

MAX_RESOURCE_LENGTH = 200
"""Longest resource name (it is a Redis key and the ``lock_fences`` primary key)."""


def quorum(instances: int) -> int:
    """How many of ``instances`` make a majority: any two majorities share an instance."""
    if instances < 1:
        raise ValueError("a lock needs at least one instance")
    return instances // 2 + 1


def validity_s(ttl_s: float, elapsed_s: float, *, drift_factor: float, drift_constant_s: float) -> float:
    """How long a lease taken in ``elapsed_s`` with ``ttl_s`` may be relied on (<= 0: not at all)."""
    return ttl_s - elapsed_s - (ttl_s * drift_factor + drift_constant_s)


def check_resource(resource: str) -> None:
    """Refuse a resource name that is empty, blank or too long."""
    if not resource.strip():
        raise InvalidLockRequestError("a lock's resource must be a non-empty name", resource=resource)
    if len(resource) > MAX_RESOURCE_LENGTH:
        raise InvalidLockRequestError(
            f"a lock's resource name may be at most {MAX_RESOURCE_LENGTH} characters", resource=resource[:40]
        )


def check_request(resource: str, ttl_s: float, wait_s: float) -> None:
    """Refuse a lock request a backend could not honour, saying which input is wrong."""
    check_resource(resource)
    if not math.isfinite(ttl_s) or ttl_s < MIN_TTL_S:
        raise InvalidLockRequestError(f"ttl_s must be at least {MIN_TTL_S} s, got {ttl_s}", resource=resource)
    if not math.isfinite(wait_s) or wait_s < 0:
        raise InvalidLockRequestError(f"wait_s must be >= 0, got {wait_s}", resource=resource)


@dataclass(frozen=True)
class Lease:
    """A lock held until ``valid_until`` (``time.monotonic``), and its fencing token.

    ``fencing_token`` grows with every acquisition of ``resource``: a write the resource
    protects carries it, and the resource refuses one older than the newest it saw
    (``folio.locks.fencing.fence``). ``owner`` is the random value that proves the lease
    is this holder's when it is extended or released.
    """

    resource: str
    fencing_token: int
    ttl_s: float
    valid_until: float
    owner: str = field(repr=False)

    def remaining_s(self, now: float | None = None) -> float:
        """Seconds the lease may still be relied on (<= 0 once it ended)."""
        return self.valid_until - (time.monotonic() if now is None else now)
