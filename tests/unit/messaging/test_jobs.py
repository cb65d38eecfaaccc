"""``JobRounds``: one round of a periodic job per interval across replicas sharing a lock service."""

from __future__ import annotations

import pytest

from folio.core.settings import Settings
from folio.locks.api import Lease, LocalLocks
from folio.messaging.api import JobRounds
from folio.messaging.registry import PeriodicJob

pytestmark = pytest.mark.unit

INTERVAL_S = 60.0
"""Longer than any test: a claim never lapses while one runs."""


class Job:
    """A job that counts its runs and fails while told to."""

    def __init__(self) -> None:
        self.runs = 0
        self.failing = False

    async def __call__(self) -> None:
        """One run: counted, then failed if told to."""
        self.runs += 1
        if self.failing:
            raise RuntimeError("the job failed")


@pytest.fixture
def replicas(settings: Settings) -> tuple[JobRounds[Lease], JobRounds[Lease]]:
    """Two replicas' rounds over one lock service (as two workers over the same Redis instances)."""
    locks = LocalLocks(settings.locks)
    return JobRounds(locks, lease_s=5), JobRounds(locks, lease_s=5)


async def test_a_round_claims_its_interval_for_every_replica(
    replicas: tuple[JobRounds[Lease], JobRounds[Lease]],
) -> None:
    """After one replica's round, no replica (itself included) runs the job again within the interval."""
    first, second = replicas
    job = Job()
    periodic = PeriodicJob("test:sweep", INTERVAL_S, job)
    assert await first.run(periodic) is True
    assert await second.run(periodic) is False
    assert await first.run(periodic) is False
    assert job.runs == 1


async def test_a_failed_round_leaves_the_interval_to_the_next_timer(
    replicas: tuple[JobRounds[Lease], JobRounds[Lease]],
) -> None:
    """A round that raised releases its claim: the other replica's next timer runs the job at once."""
    first, second = replicas
    job = Job()
    periodic = PeriodicJob("test:sweep", INTERVAL_S, job)
    job.failing = True
    with pytest.raises(RuntimeError, match="the job failed"):
        await first.run(periodic)
    job.failing = False
    assert await second.run(periodic) is True
    assert job.runs == 2


async def test_jobs_claim_their_intervals_apart(
    replicas: tuple[JobRounds[Lease], JobRounds[Lease]],
) -> None:
    """One job's round does not use up another job's interval."""
    first, second = replicas
    sweep, report = Job(), Job()
    assert await first.run(PeriodicJob("test:sweep", INTERVAL_S, sweep)) is True
    assert await second.run(PeriodicJob("test:report", INTERVAL_S, report)) is True
    assert (sweep.runs, report.runs) == (1, 1)
