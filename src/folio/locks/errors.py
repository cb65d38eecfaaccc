"""What the locks raise: each a ``FolioError`` with its problem code (see docs/errors.md)."""

from __future__ import annotations

from folio.core.errors import ConflictError, FolioError, ServiceUnavailableError, ValidationFailedError

__all__ = [
    "FencingError",
    "InvalidLockRequestError",
    "LeaseLostError",
    "LockNotAcquiredError",
    "LocksUnavailableError",
]


class InvalidLockRequestError(ValidationFailedError):
    """A lock was asked for with an empty resource name or a TTL or wait out of bounds."""


class LockNotAcquiredError(FolioError, code="lock-busy", title="Resource busy", status=409):
    """Another holder kept the lock for the whole wait (member ``resource``)."""


class LocksUnavailableError(
    ServiceUnavailableError, code="locks-unavailable", title="Locks unavailable", status=503
):
    """Fewer than a majority of the lock instances answered for the whole wait (member ``resource``)."""


class LeaseLostError(FolioError, code="lease-lost", title="Lease lost", status=503):
    """The lease ended (not renewed in time) while its holder worked, so the work was cancelled.

    Raised by ``hold`` in place of the cancellation it sent the body: the work stopped
    part-way, and anything it did not commit is gone. Trying again takes a new lease.
    """


class FencingError(ConflictError, code="stale-fencing-token", title="Stale fencing token"):
    """A write carried a fencing token older than one the resource already accepted.

    Its holder's lease ended and a newer holder wrote since (members ``resource``,
    ``token``, ``newest_token``); the caller's transaction must roll back.
    """
