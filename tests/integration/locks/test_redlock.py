"""Redlock on the harness's three Redis instances: exclusion, fencing tokens, a missing majority, renewal."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from folio.locks.api import LeaseLostError, LockNotAcquiredError, LocksUnavailableError
from tests.conftest import free_port
from tests.integration.locks.conftest import MakeLocks

pytestmark = pytest.mark.integration


async def test_a_lease_is_set_on_every_instance_and_busy_until_released(
    make_locks: MakeLocks, redlock_urls: list[str], namespace: str
) -> None:
    """Acquiring sets the key on all three instances; another client is refused until it is released."""
    holder, other = make_locks(), make_locks()
    lease = await holder.acquire("shelf", ttl_s=5)

    for url in redlock_urls:
        client = Redis.from_url(url)
        assert await client.get(f"{namespace}:lock:shelf") == lease.owner.encode()
        await client.aclose()
    with pytest.raises(LockNotAcquiredError):
        await other.acquire("shelf", ttl_s=5, wait_s=0.05)
    await holder.release(lease)
    assert (await other.acquire("shelf", ttl_s=5, wait_s=0)).fencing_token > lease.fencing_token


async def test_many_contending_workers_hold_the_lock_one_at_a_time_with_growing_tokens(
    make_locks: MakeLocks,
) -> None:
    """Twelve clients x four rounds: never two inside at once, and tokens seen inside strictly increase."""
    workers = [make_locks(retry_delay_s=0.01) for _ in range(12)]
    inside = 0
    most = 0
    tokens: list[int] = []

    async def work(locks_index: int) -> None:
        nonlocal inside, most
        for _ in range(4):
            lease = await workers[locks_index].acquire("till", ttl_s=5, wait_s=30)
            inside += 1
            most = max(most, inside)
            tokens.append(lease.fencing_token)
            await asyncio.sleep(0.001)
            inside -= 1
            await workers[locks_index].release(lease)

    await asyncio.gather(*(work(index) for index in range(len(workers))))

    assert most == 1
    assert len(tokens) == 48
    assert tokens == sorted(set(tokens))


async def test_a_majority_is_enough_and_a_minority_is_unavailable(
    make_locks: MakeLocks, redlock_urls: list[str]
) -> None:
    """With one of three instances unreachable locks still work; with two it is locks-unavailable (503)."""
    dead = [f"redis://127.0.0.1:{free_port()}/0" for _ in range(2)]
    one_down = make_locks([*redlock_urls[:2], dead[0]])
    two_down = make_locks([redlock_urls[0], *dead])

    lease = await one_down.acquire("ledger", ttl_s=5, wait_s=0)
    assert await one_down.extend(lease) is not None
    await one_down.release(lease)
    with pytest.raises(LocksUnavailableError) as caught:
        await two_down.acquire("ledger", ttl_s=5, wait_s=0.05)
    assert (caught.value.status, caught.value.code) == (503, "locks-unavailable")


async def test_an_expired_lease_cannot_release_or_extend_the_next_holders_lock(make_locks: MakeLocks) -> None:
    """Compare-and-delete and compare-and-pexpire: a stale holder touches nothing of the new holder's."""
    first, second, third = make_locks(), make_locks(), make_locks()
    stale = await first.acquire("ledger", ttl_s=0.05)
    await asyncio.sleep(0.1)
    current = await second.acquire("ledger", ttl_s=5, wait_s=0)

    await first.release(stale)
    assert await first.extend(stale) is None
    with pytest.raises(LockNotAcquiredError):
        await third.acquire("ledger", ttl_s=5, wait_s=0)
    assert current.fencing_token > stale.fencing_token


async def test_hold_keeps_a_long_jobs_lease_across_many_ttls(make_locks: MakeLocks) -> None:
    """A body running about six TTLs is renewed throughout: every other client's try is refused."""
    holder, other = make_locks(), make_locks()
    refused = 0

    async with holder.hold("nightly-report", ttl_s=0.2) as held:
        for _ in range(6):
            await asyncio.sleep(0.2)
            with pytest.raises(LockNotAcquiredError):
                await other.acquire("nightly-report", ttl_s=5, wait_s=0)
            refused += 1
        token = held.fencing_token

    assert refused == 6
    assert (await other.acquire("nightly-report", ttl_s=5, wait_s=0)).fencing_token > token


async def test_losing_the_lease_cancels_the_body_with_lease_lost(
    make_locks: MakeLocks, redlock_urls: list[str], namespace: str
) -> None:
    """Once the keys are gone (taken over) renewals fail; at the lease's end the body is cancelled."""
    holder, thief = make_locks(), make_locks()
    reached_the_end = False
    stolen = []

    async def job() -> None:
        nonlocal reached_the_end
        async with holder.hold("nightly-report", ttl_s=0.3):
            for url in redlock_urls:  # what an expiry during a long pause looks like to the holder
                client = Redis.from_url(url)
                await client.delete(f"{namespace}:lock:nightly-report")
                await client.aclose()
            stolen.append(await thief.acquire("nightly-report", ttl_s=5, wait_s=0))
            await asyncio.sleep(30)
            reached_the_end = True

    with pytest.raises(LeaseLostError):
        await job()

    assert not reached_the_end
    assert len(stolen) == 1
    # The lost holder's release on the way out left the thief's lock alone.
    with pytest.raises(LockNotAcquiredError):
        await holder.acquire("nightly-report", ttl_s=5, wait_s=0)
