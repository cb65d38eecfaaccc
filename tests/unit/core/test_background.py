"""``folio.core.background``: periodic jobs stop between runs, and a stop never waits forever."""

from __future__ import annotations

import asyncio

import pytest

from folio.core.background import Periodic, stop_tasks

pytestmark = pytest.mark.unit


async def test_a_periodic_job_in_flight_finishes_before_the_loop_stops() -> None:
    """``stop`` does not cancel a run mid-way: the run started before it completes."""
    started, finished = asyncio.Event(), []

    async def job() -> None:
        started.set()
        await asyncio.sleep(0.05)
        finished.append(True)

    periodic = Periodic(job, interval_s=0.001, name="test-job")
    periodic.start()
    await started.wait()
    await periodic.stop(grace_s=5)
    assert finished == [True]
    assert not periodic.running


async def test_a_failing_job_runs_again() -> None:
    """A job that raises is logged and tried at the next interval."""
    calls: list[int] = []

    async def job() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first run fails")

    periodic = Periodic(job, interval_s=0.001, name="test-job")
    periodic.start()
    for _ in range(500):
        if len(calls) >= 3:
            break
        await asyncio.sleep(0.002)
    await periodic.stop()
    assert len(calls) >= 3


async def test_stopping_a_task_that_ignores_its_cancellation_gives_up_after_the_grace() -> None:
    """The task that swallows a cancel (as a lost one looks) is reported, and the caller goes on."""
    ignored: list[bool] = []

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                if ignored:
                    raise
                ignored.append(True)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    assert await stop_tasks([task], grace_s=0.05) == 1
    assert not task.done()
    assert await stop_tasks([task], grace_s=5) == 0
    assert task.cancelled()


async def test_stopping_ends_cancellable_tasks_and_ignores_finished_ones() -> None:
    """Ordinary tasks end at once; a finished one (even a failed one) is left as it is."""

    async def failed() -> None:
        raise RuntimeError("done badly")

    done = asyncio.create_task(failed())
    await asyncio.sleep(0)
    sleeping = asyncio.create_task(asyncio.sleep(10))
    assert await stop_tasks([done, sleeping]) == 0
    assert sleeping.cancelled()
    with pytest.raises(RuntimeError):
        done.result()
