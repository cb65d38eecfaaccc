"""What every lock backend is (``Locks``), the retry loop they share, and ``hold``, the renewing watchdog.

Key contracts:

- ``acquire`` tries until ``wait_s`` has passed, pausing a jittered ``retry_delay_s``
  between tries; it returns a ``Lease`` or raises ``LockNotAcquiredError`` (held by
  another all along) or ``LocksUnavailableError`` (no majority of instances answered).
- A ``Lease`` may be relied on until ``valid_until`` only; ``extend`` pushes that back
  while the lock is still this holder's; ``release`` frees it (only if still ours).
- ``hold`` does all three around a block of work and renews in the background; when a
  renewal has not succeeded by the time the lease ends, the block is cancelled and
  ``LeaseLostError`` raised in place of the cancellation. A process paused past its
  lease (a stop, a long GC, a swap storm) wakes up holding nothing, which no timer can
  prevent: writes that matter carry the fencing token (``folio.locks.fencing``).
"""

from __future__ import annotations

import asyncio
import enum
import random
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import structlog

from folio.core.background import Periodic
from folio.core.platform import Slot
from folio.locks.errors import LeaseLostError, LockNotAcquiredError, LocksUnavailableError
from folio.locks.lease import Lease, check_request
from folio.locks.settings import LockSettings

__all__ = ["LOCKS", "HeldLease", "Locks", "Refusal", "hold"]

log = structlog.get_logger(__name__)


class Refusal(enum.Enum):
    """Why one try at a lock failed."""

    BUSY = "busy"
    """Another holder has it (or the try took longer than the lease would have lasted)."""
    NO_QUORUM = "no-quorum"
    """Fewer than a majority of the instances answered."""


class Locks(ABC):
    """A lock service. ``Redlock`` spans independent Redis instances; ``LocalLocks`` is one process's.

    Subclasses implement one try (``_try_acquire``), ``extend``, ``release`` and
    ``aclose``; the waiting, the jitter and the input checks are here, the same for all.
    """

    def __init__(self, settings: LockSettings, *, random: Callable[[], float] = random.random) -> None:
        """``random`` draws the jitter (uniform in [0, 1)); tests pass a seeded one."""
        self.settings = settings
        self._random = random

    async def acquire(
        self, resource: str, *, ttl_s: float | None = None, wait_s: float | None = None
    ) -> Lease:
        """The lock on ``resource`` for ``ttl_s`` (default ``locks.ttl_s``), waiting up to ``wait_s``.

        Raises ``InvalidLockRequestError`` for an empty resource or a TTL or wait out of
        bounds, ``LockNotAcquiredError`` when another holder kept it the whole wait, and
        ``LocksUnavailableError`` when the last try reached fewer than a majority.
        """
        ttl_s = self.settings.ttl_s if ttl_s is None else ttl_s
        wait_s = self.settings.wait_s if wait_s is None else wait_s
        check_request(resource, ttl_s, wait_s)
        deadline = time.monotonic() + wait_s
        while True:
            attempt = await self._try_acquire(resource, ttl_s)
            if isinstance(attempt, Lease):
                return attempt
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            # Jitter: contenders that failed together must not all come back together.
            await asyncio.sleep(min(self.settings.retry_delay_s * (0.5 + self._random()), remaining))
        if attempt is Refusal.NO_QUORUM:
            raise LocksUnavailableError(
                f"fewer than a majority of the lock instances answered for {resource!r}", resource=resource
            )
        raise LockNotAcquiredError(f"{resource!r} stayed locked for {wait_s} s", resource=resource)

    def hold(
        self, resource: str, *, ttl_s: float | None = None, wait_s: float | None = None
    ) -> AbstractAsyncContextManager[HeldLease]:
        """``async with locks.hold(resource, ttl_s=...) as held:``: see ``hold``."""
        return hold(self, resource, ttl_s=ttl_s, wait_s=wait_s)

    @abstractmethod
    async def _try_acquire(self, resource: str, ttl_s: float) -> Lease | Refusal:
        """One try at ``resource`` (inputs already checked): the lease, or why not."""

    @abstractmethod
    async def extend(self, lease: Lease) -> Lease | None:
        """``lease`` renewed for another ``lease.ttl_s``, or None when it is no longer this holder's.

        None also when too few instances answered in time: the caller may try again
        while ``lease.remaining_s()`` lasts.
        """

    @abstractmethod
    async def release(self, lease: Lease) -> None:
        """Free the lock if it is still ``lease``'s (never another holder's); errors are not raised."""

    @abstractmethod
    async def aclose(self) -> None:
        """Close the connections (the platform does, at shutdown)."""


class HeldLease:
    """The lease ``hold`` keeps renewed: the newest ``Lease`` and its (unchanging) fencing token."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease

    @property
    def resource(self) -> str:
        """The locked resource."""
        return self.lease.resource

    @property
    def fencing_token(self) -> int:
        """The token writes to the resource carry (renewals keep it)."""
        return self.lease.fencing_token

    def remaining_s(self) -> float:
        """Seconds the lease may still be relied on, as of its last renewal."""
        return self.lease.remaining_s()


class _Watchdog:
    """Renews a lease every ``renew_every`` x TTL and cancels ``body`` if it ends first."""

    def __init__(self, locks: Locks, held: HeldLease, body: asyncio.Task[object]) -> None:
        self._locks = locks
        self._held = held
        self._body = body
        self._expiry: asyncio.TimerHandle | None = None
        self._renewals = Periodic(
            self._renew,
            interval_s=held.lease.ttl_s * locks.settings.renew_every,
            name=f"lease renewal {held.resource}",
        )
        self.lost = False
        self.finished = False

    def start(self) -> None:
        self._arm()
        self._renewals.start()

    async def stop(self) -> None:
        self.finished = True
        if self._expiry is not None:
            self._expiry.cancel()
        await self._renewals.stop()

    def _arm(self) -> None:
        """(Re)set the timer that declares the lease lost when it ends unrenewed."""
        if self._expiry is not None:
            self._expiry.cancel()
        delay = max(self._held.remaining_s(), 0.0)
        self._expiry = asyncio.get_running_loop().call_later(delay, self._lose)

    async def _renew(self) -> None:
        if self.lost or self.finished:
            return
        try:
            renewed = await self._locks.extend(self._held.lease)
        except Exception as error:  # noqa: BLE001 - a failed renewal is retried until the lease ends
            log.warning("lease renewal failed", resource=self._held.resource, error=repr(error))
            return
        if renewed is None:
            log.warning("lease not renewed", resource=self._held.resource, left_s=self._held.remaining_s())
            return
        if not self.lost:  # renewed too late: the body is already being cancelled
            self._held.lease = renewed
            self._arm()

    def _lose(self) -> None:
        if self.finished or self.lost:
            return
        self.lost = True
        log.warning("lease lost: cancelling its holder", resource=self._held.resource)
        self._body.cancel()


@asynccontextmanager
async def hold(
    locks: Locks, resource: str, *, ttl_s: float | None = None, wait_s: float | None = None
) -> AsyncIterator[HeldLease]:
    """Hold the lock on ``resource`` while the block runs, renewing it in the background.

    Acquires as ``locks.acquire`` does (same errors), renews every ``locks.renew_every``
    x ``ttl_s``, and releases when the block ends. If no renewal succeeded by the time
    the lease ends (the instances are unreachable, or the key expired), the block is
    cancelled at its current ``await`` and ``LeaseLostError`` raised from the ``async
    with``: the block must not swallow ``CancelledError``. A cancellation from elsewhere
    passes through unchanged. Writes that must not land after the lease ended carry
    ``held.fencing_token`` (``folio.locks.fencing.fence``).
    """
    body = asyncio.current_task()
    if body is None:
        raise RuntimeError("hold needs a running asyncio task")
    held = HeldLease(await locks.acquire(resource, ttl_s=ttl_s, wait_s=wait_s))
    watchdog = _Watchdog(locks, held, body)
    watchdog.start()
    try:
        yield held
    except asyncio.CancelledError:
        # Ours (and nobody else's as well): the lease ended, say so instead of cancelling.
        if watchdog.lost and body.uncancel() == 0:
            raise LeaseLostError(
                f"the lease on {resource!r} ended before the work did; the work was cancelled",
                resource=resource,
            ) from None
        raise
    finally:
        watchdog.finished = True
        await watchdog.stop()
        await locks.release(held.lease)
    if watchdog.lost:  # the block swallowed our cancellation and finished anyway
        body.uncancel()
        raise LeaseLostError(f"the lease on {resource!r} ended before the work did", resource=resource)


LOCKS: Slot[Locks] = Slot("locks")
"""The process's lock service (``folio.bootstrap`` provides it; the platform closes it)."""
