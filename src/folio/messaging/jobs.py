"""Periodic jobs across worker replicas: at most one round per interval, one replica at a time.

Every worker replica runs a timer per registered job (``registry.every``), so N replicas
fire N times per interval. ``JobRounds`` turns those timers into one round per interval:

1. **The round lock** ``<name>``: taken with one try and renewed while the round runs
   (``locks.hold``), so two rounds never overlap, however long one takes.
2. **The interval claim** ``<name>:last-run``: a lease of ``interval_s``, taken with one
   try inside the round lock and *not released* after a round that completes. It lapses
   on its own one interval after the round started; until then every replica whose timer
   fires finds it held and skips. A replica's own next round comes at least an interval
   after its last one began (its timer restarts when the round ends), so it finds its own
   claim lapsed. A round that fails releases its claim, so the next timer to fire (any
   replica's) tries again instead of waiting out the interval.

``folio.locks`` keeps the keys (Redlock over the harness's Redis instances, or one
process's locks in lite mode); messaging does not import it and needs only the three
calls of ``JobLocks``.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Generic, Protocol, TypeVar

import structlog

from folio.core.errors import FolioError
from folio.messaging.registry import PeriodicJob

__all__ = ["JobLocks", "JobRounds", "last_run_resource"]

log = structlog.get_logger(__name__)

LeaseT = TypeVar("LeaseT")


class JobLocks(Protocol[LeaseT]):
    """The lock service calls ``JobRounds`` makes (``folio.locks.api.Locks`` provides them).

    ``hold`` and ``acquire`` raise a ``FolioError`` when they fail: status 409 when another
    holder has the lock (the normal case for a replica whose timer fires second), 503
    when the lock instances do not answer.
    """

    def hold(
        self, resource: str, *, ttl_s: float | None = None, wait_s: float | None = None
    ) -> AbstractAsyncContextManager[object]:
        """Hold ``resource`` while the block runs, renewing it."""
        ...

    async def acquire(
        self, resource: str, *, ttl_s: float | None = None, wait_s: float | None = None
    ) -> LeaseT:
        """Take ``resource`` for ``ttl_s``; nothing renews it."""
        ...

    async def release(self, lease: LeaseT) -> None:
        """Free ``lease``'s lock if it is still this holder's."""
        ...


def last_run_resource(job: PeriodicJob) -> str:
    """The lock that stands for ``job``'s last round while its interval lasts."""
    return f"{job.name}:last-run"


class JobRounds(Generic[LeaseT]):
    """Runs a periodic job's round only when no replica runs it now or started one within its interval."""

    def __init__(self, locks: JobLocks[LeaseT], *, lease_s: float) -> None:
        """``lease_s``: the round lock's lease, renewed while the round runs (only a dead holder's lapses)."""
        self._locks = locks
        self._lease_s = lease_s

    async def run(self, job: PeriodicJob) -> bool:
        """One round of ``job`` if it is this replica's turn: whether it ran.

        False when another replica runs the job now or started it within its interval
        (the normal case), or when the lock instances did not answer (logged). The job's
        own errors, and ``LeaseLostError`` when the round lock was lost mid-round, pass
        through after the interval claim was released.
        """
        started = False
        try:
            async with self._locks.hold(job.name, ttl_s=self._lease_s, wait_s=0):
                claim = await self._locks.acquire(last_run_resource(job), ttl_s=job.interval_s, wait_s=0)
                started = True
                try:
                    await job.run()
                except BaseException:
                    await self._locks.release(claim)
                    raise
        except FolioError as exc:
            if started:
                raise
            if exc.status != 409:  # noqa: PLR2004 - busy (another replica's turn) is the normal case
                log.warning("worker.job_skipped", job=job.name, reason=exc.detail or exc.title)
            return False
        return True
