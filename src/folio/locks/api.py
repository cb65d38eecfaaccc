"""The public surface of the locks: what contexts, bootstrap and entry points import.

Key contracts:

- ``platform.get(LOCKS)`` is the process's ``Locks``: Redlock over independent Redis
  instances (``locks.urls``, by default the harness's ``services.redlock``), or in lite
  mode ``LocalLocks``, which exclude within one process only.
- ``async with locks.hold("orders:expirer", ttl_s=30) as held:`` holds the lock while
  the block runs and renews it; if the lease ends first the block is cancelled and
  ``LeaseLostError`` raised. ``acquire``/``extend``/``release`` are the manual form.
- A write the lock protects calls ``await fence(session, resource=held.resource,
  token=held.fencing_token)`` in its own transaction: ``FencingError`` when a newer
  holder already wrote, so a holder that paused past its lease cannot overwrite it.
- ``LeaseCache``: a named cache whose entries only the holder of the key's lease loads.
- Errors are ``FolioError`` problems: ``lock-busy`` (409), ``locks-unavailable`` (503),
  ``lease-lost`` (503), ``stale-fencing-token`` (409), ``validation-failed`` (422).
"""

from __future__ import annotations

from folio.locks.backends import locks_are_local, locks_for
from folio.locks.cache import LeaseCache
from folio.locks.errors import (
    FencingError,
    InvalidLockRequestError,
    LeaseLostError,
    LockNotAcquiredError,
    LocksUnavailableError,
)
from folio.locks.fencing import fence
from folio.locks.lease import Lease
from folio.locks.local import LocalLocks
from folio.locks.manager import LOCKS, HeldLease, Locks, hold
from folio.locks.redlock import Redlock

__all__ = [
    "LOCKS",
    "FencingError",
    "HeldLease",
    "InvalidLockRequestError",
    "Lease",
    "LeaseCache",
    "LeaseLostError",
    "LocalLocks",
    "LockNotAcquiredError",
    "Locks",
    "LocksUnavailableError",
    "Redlock",
    "fence",
    "hold",
    "locks_are_local",
    "locks_for",
]
