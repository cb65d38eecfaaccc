"""LocalLocks (lite mode) and the renewing watchdog of ``hold``, in one process with no servers."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from folio.core.settings import Settings
from folio.locks.api import Lease, LeaseLostError, LocalLocks, LockNotAcquiredError

pytestmark = pytest.mark.unit

TTL_S = 0.05


class NeverRenewed(LocalLocks):
    """Local locks whose renewals always fail, as when the instances stop answering."""

    async def extend(self, lease: Lease) -> Lease | None:  # noqa: ARG002 - the fake ignores it
        """Refuse every renewal."""
        return None


@pytest.fixture
def locks() -> LocalLocks:
    """Local locks with the default settings and no waiting unless a test asks for it."""
    return LocalLocks(Settings().locks.model_copy(update={"wait_s": 0.0, "retry_delay_s": 0.005}))


async def test_only_one_coroutine_holds_a_resource_at_a_time(locks: LocalLocks) -> None:
    """Twenty contending coroutines each get the lock in turn, never two at once."""
    inside = 0
    most = 0
    done = 0

    async def worker() -> None:
        nonlocal inside, most, done
        lease = await locks.acquire("shelf", ttl_s=5, wait_s=5)
        inside += 1
        most = max(most, inside)
        await asyncio.sleep(0)
        inside -= 1
        done += 1
        await locks.release(lease)

    await asyncio.gather(*(worker() for _ in range(20)))

    assert (most, done) == (1, 20)


async def test_a_held_lock_is_busy_and_free_again_after_release(locks: LocalLocks) -> None:
    """A second acquire fails with lock-busy while held, and succeeds once released."""
    lease = await locks.acquire("shelf", ttl_s=5)
    with pytest.raises(LockNotAcquiredError) as caught:
        await locks.acquire("shelf", ttl_s=5)
    assert (caught.value.status, caught.value.code) == (409, "lock-busy")

    await locks.release(lease)
    assert (await locks.acquire("shelf", ttl_s=5)).resource == "shelf"


async def test_fencing_tokens_grow_within_a_process_and_across_restarts(locks: LocalLocks) -> None:
    """Each acquisition's token is larger than the last, also from a new LocalLocks (a restarted process)."""
    tokens = []
    for _ in range(3):
        lease = await locks.acquire("shelf", ttl_s=5)
        tokens.append(lease.fencing_token)
        await locks.release(lease)
    restarted = LocalLocks(locks.settings)
    tokens.append((await restarted.acquire("shelf", ttl_s=5)).fencing_token)

    assert tokens == sorted(set(tokens))


async def test_an_expired_lease_can_neither_be_extended_nor_release_the_next_holder(
    locks: LocalLocks,
) -> None:
    """Once a lease ran out and another took the lock, the old one can neither extend nor release it."""
    old = await locks.acquire("shelf", ttl_s=0.01)
    await asyncio.sleep(0.02)
    new = await locks.acquire("shelf", ttl_s=5)

    assert await locks.extend(old) is None
    await locks.release(old)
    with pytest.raises(LockNotAcquiredError):
        await locks.acquire("shelf", ttl_s=5)
    assert new.fencing_token > old.fencing_token


async def test_hold_renews_the_lease_for_a_job_longer_than_its_ttl(locks: LocalLocks) -> None:
    """A body running for many TTLs keeps the lock: nobody else gets it meanwhile, and it ends normally."""
    refused = 0
    async with locks.hold("report", ttl_s=TTL_S) as held:
        for _ in range(8):
            await asyncio.sleep(TTL_S / 2)
            with pytest.raises(LockNotAcquiredError):
                await locks.acquire("report", ttl_s=5)
            refused += 1
        assert held.remaining_s() > 0

    assert refused == 8
    assert (await locks.acquire("report", ttl_s=5)).resource == "report"


async def test_hold_cancels_the_body_when_the_lease_cannot_be_renewed() -> None:
    """Renewals failing until the lease ends cancel the body at its await and raise lease-lost."""
    locks = NeverRenewed(Settings().locks)
    reached_the_end = False

    async def job() -> None:
        nonlocal reached_the_end
        async with locks.hold("report", ttl_s=TTL_S):
            await asyncio.sleep(60)
            reached_the_end = True

    with pytest.raises(LeaseLostError) as caught:
        await job()

    assert not reached_the_end
    assert (caught.value.status, caught.value.code) == (503, "lease-lost")
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_a_body_that_swallows_the_cancellation_still_gets_lease_lost() -> None:
    """The block cannot hide a lost lease: finishing after swallowing the cancel still raises lease-lost."""
    locks = NeverRenewed(Settings().locks)

    async def stubborn_job() -> None:
        async with locks.hold("report", ttl_s=TTL_S):
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(60)

    with pytest.raises(LeaseLostError):
        await stubborn_job()


async def test_a_cancellation_from_elsewhere_passes_through_and_frees_the_lock(locks: LocalLocks) -> None:
    """Cancelling the holder's task is a plain cancellation (not lease-lost), and the lock is released."""
    started = asyncio.Event()

    async def job() -> None:
        async with locks.hold("report", ttl_s=5):
            started.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(job())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert (await locks.acquire("report", ttl_s=5)).resource == "report"
