"""The arithmetic every lock backend shares: majorities, validity, and the input checks."""

from __future__ import annotations

import math

import pytest

from folio.core.settings import Settings
from folio.locks.api import InvalidLockRequestError, LocalLocks, Redlock
from folio.locks.lease import MAX_RESOURCE_LENGTH, Lease, quorum, validity_s

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("instances", "majority"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (7, 4)])
def test_quorum_is_a_strict_majority(instances: int, majority: int) -> None:
    """A quorum is more than half, so any two quorums of one set share an instance."""
    assert quorum(instances) == majority
    assert 2 * quorum(instances) > instances


def test_quorum_needs_an_instance() -> None:
    """No instances cannot make a majority."""
    with pytest.raises(ValueError, match="at least one instance"):
        quorum(0)


def test_validity_takes_off_elapsed_time_and_drift() -> None:
    """Validity is the TTL less the time the acquisition took, less drift factor x TTL plus the constant."""
    assert validity_s(10.0, 0.5, drift_factor=0.01, drift_constant_s=0.002) == pytest.approx(9.398)
    assert validity_s(1.0, 0.0, drift_factor=0.0, drift_constant_s=0.0) == 1.0


def test_validity_is_not_positive_when_the_acquisition_took_the_whole_ttl() -> None:
    """A slow acquisition leaves nothing to rely on: the backend must treat it as a failed try."""
    assert validity_s(1.0, 0.995, drift_factor=0.01, drift_constant_s=0.002) <= 0
    assert validity_s(0.1, 0.2, drift_factor=0.01, drift_constant_s=0.002) < 0


def test_a_lease_counts_down_to_its_end() -> None:
    """remaining_s is the time to valid_until, negative once passed."""
    lease = Lease("r", 7, 1.0, valid_until=100.0, owner="secret")

    assert lease.remaining_s(now=99.25) == 0.75
    assert lease.remaining_s(now=101.0) == -1.0
    assert "secret" not in repr(lease)


@pytest.fixture(params=["local", "redlock"])
def any_locks(request: pytest.FixtureRequest) -> LocalLocks | Redlock:
    """Each backend; Redlock on URLs it never reaches (the checks come before any I/O)."""
    settings = Settings().locks
    if request.param == "local":
        return LocalLocks(settings)
    return Redlock.from_urls([f"redis://127.0.0.1:1/{i}" for i in range(3)], settings)


@pytest.mark.parametrize(
    ("resource", "ttl_s", "wait_s", "says"),
    [
        ("", 1.0, 0.0, "non-empty"),
        ("   ", 1.0, 0.0, "non-empty"),
        ("x" * (MAX_RESOURCE_LENGTH + 1), 1.0, 0.0, "at most"),
        ("orders", 0.0, 0.0, "ttl_s must be at least"),
        ("orders", -5.0, 0.0, "ttl_s must be at least"),
        ("orders", math.nan, 0.0, "ttl_s must be at least"),
        ("orders", math.inf, 0.0, "ttl_s must be at least"),
        ("orders", 1.0, -1.0, "wait_s must be >= 0"),
    ],
)
async def test_bad_requests_are_refused_before_any_io(
    any_locks: LocalLocks | Redlock, resource: str, ttl_s: float, wait_s: float, says: str
) -> None:
    """An empty resource or a TTL or wait out of bounds is a validation-failed problem naming the input."""
    with pytest.raises(InvalidLockRequestError, match=says) as caught:
        await any_locks.acquire(resource, ttl_s=ttl_s, wait_s=wait_s)

    problem = caught.value.to_problem()
    assert (problem.status, problem.code) == (422, "validation-failed")
    await any_locks.aclose()


async def test_hold_checks_its_input_too(any_locks: LocalLocks | Redlock) -> None:
    """Holding refuses the same bad input as acquiring, before taking anything."""
    body_ran = False

    async def job() -> None:
        nonlocal body_ran
        async with any_locks.hold("orders", ttl_s=0):
            body_ran = True

    with pytest.raises(InvalidLockRequestError, match="ttl_s"):
        await job()
    assert not body_ran
    await any_locks.aclose()
