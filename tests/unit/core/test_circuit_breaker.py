"""The circuit breaker's state machine, driven by a fake clock: no test waits on real time."""

from __future__ import annotations

import asyncio
import threading

import pytest
from structlog.testing import capture_logs

from folio.core.resilience import BreakerState, CircuitBreaker, CircuitOpenError

pytestmark = pytest.mark.unit

THRESHOLD = 3
RESET_S = 10.0


def state_of(breaker: CircuitBreaker) -> BreakerState:
    """The breaker's state, read through a call so that mypy does not keep it narrowed between reads."""
    return breaker.state


class FakeClock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        """The current fake time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at an arbitrary start."""
    return FakeClock()


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    """A breaker that opens after 3 consecutive failures and waits 10 fake seconds."""
    return CircuitBreaker("db", failure_threshold=THRESHOLD, reset_timeout_s=RESET_S, clock=clock)


def fail(breaker: CircuitBreaker, times: int = 1) -> None:
    """Record ``times`` admitted calls that failed."""
    for _ in range(times):
        breaker.record_failure(breaker.admit())


def open_it(breaker: CircuitBreaker) -> None:
    """Drive a closed breaker open."""
    fail(breaker, THRESHOLD)
    assert state_of(breaker) is BreakerState.OPEN


def test_starts_closed_and_admits(breaker: CircuitBreaker) -> None:
    """A new breaker is closed, counts no failures and lets calls through as non-trials."""
    permit = breaker.admit()

    assert state_of(breaker) is BreakerState.CLOSED
    assert breaker.failures == 0
    assert permit.trial is False
    assert breaker.admits_now()


def test_opens_after_threshold_consecutive_failures(breaker: CircuitBreaker) -> None:
    """Failures below the threshold keep it closed; the threshold-th opens it."""
    fail(breaker, THRESHOLD - 1)
    assert state_of(breaker) is BreakerState.CLOSED
    assert breaker.failures == THRESHOLD - 1

    fail(breaker)

    assert state_of(breaker) is BreakerState.OPEN
    assert not breaker.admits_now()


def test_a_success_resets_the_consecutive_count(breaker: CircuitBreaker) -> None:
    """Only consecutive failures count: a success in between starts the count again."""
    fail(breaker, THRESHOLD - 1)
    breaker.record_success(breaker.admit())
    fail(breaker, THRESHOLD - 1)

    assert state_of(breaker) is BreakerState.CLOSED
    assert breaker.failures == THRESHOLD - 1


def test_open_refuses_without_calling_and_says_when(breaker: CircuitBreaker, clock: FakeClock) -> None:
    """While open, admit raises CircuitOpenError carrying the time left until the trial."""
    open_it(breaker)
    clock.advance(4.0)

    with pytest.raises(CircuitOpenError) as refused:
        breaker.admit()

    assert refused.value.state is BreakerState.OPEN
    assert refused.value.retry_after_s == pytest.approx(RESET_S - 4.0)
    assert refused.value.name == "db"
    assert "open" in breaker.describe()


def test_reads_half_open_once_the_timeout_passed(breaker: CircuitBreaker, clock: FakeClock) -> None:
    """Just before the reset timeout it is open; at the timeout it reads half-open."""
    open_it(breaker)

    clock.advance(RESET_S - 0.001)
    assert state_of(breaker) is BreakerState.OPEN
    clock.advance(0.001)

    assert state_of(breaker) is BreakerState.HALF_OPEN
    assert breaker.admits_now()
    assert "the next call is a trial" in breaker.describe()


def test_half_open_admits_exactly_one_trial(breaker: CircuitBreaker, clock: FakeClock) -> None:
    """In half-open the first caller gets the trial and every other caller is refused."""
    open_it(breaker)
    clock.advance(RESET_S)

    trial = breaker.admit()

    assert trial.trial is True
    assert not breaker.admits_now()
    for _ in range(5):
        with pytest.raises(CircuitOpenError) as refused:
            breaker.admit()
        assert refused.value.state is BreakerState.HALF_OPEN
    assert "a trial call is in progress" in breaker.describe()


def test_successful_trial_closes(breaker: CircuitBreaker, clock: FakeClock) -> None:
    """A trial that succeeds closes the circuit with a clean failure count."""
    open_it(breaker)
    clock.advance(RESET_S)

    breaker.record_success(breaker.admit())

    assert state_of(breaker) is BreakerState.CLOSED
    assert breaker.failures == 0
    assert breaker.admit().trial is False


def test_failed_trial_reopens_for_a_full_timeout(breaker: CircuitBreaker, clock: FakeClock) -> None:
    """A trial that fails re-opens the circuit and the reset timeout starts again from then."""
    open_it(breaker)
    clock.advance(RESET_S + 5)

    breaker.record_failure(breaker.admit())

    assert state_of(breaker) is BreakerState.OPEN
    clock.advance(RESET_S - 1)
    assert state_of(breaker) is BreakerState.OPEN
    clock.advance(1)
    assert state_of(breaker) is BreakerState.HALF_OPEN


def test_released_trial_lets_the_next_caller_try(breaker: CircuitBreaker, clock: FakeClock) -> None:
    """A trial that ends without an outcome (cancelled) frees the slot: the next call is the trial."""
    open_it(breaker)
    clock.advance(RESET_S)

    breaker.release(breaker.admit())
    second = breaker.admit()

    assert second.trial is True
    assert state_of(breaker) is BreakerState.HALF_OPEN


def test_outcomes_of_stale_permits_are_ignored(breaker: CircuitBreaker, clock: FakeClock) -> None:
    """A slow call admitted before the circuit opened cannot close it (nor count twice) later."""
    slow = breaker.admit()
    open_it(breaker)
    clock.advance(RESET_S)

    breaker.record_success(slow)
    assert state_of(breaker) is BreakerState.HALF_OPEN

    trial = breaker.admit()
    breaker.record_success(trial)
    breaker.record_failure(slow)
    assert state_of(breaker) is BreakerState.CLOSED
    assert breaker.failures == 0


def test_guard_counts_failures_and_successes(breaker: CircuitBreaker) -> None:
    """``guard`` records an exception as a failure and a clean exit as a success."""
    for _ in range(THRESHOLD - 1):
        with pytest.raises(ConnectionError), breaker.guard():
            raise ConnectionError("refused")
    assert breaker.failures == THRESHOLD - 1

    with breaker.guard():
        pass
    assert breaker.failures == 0


def test_guard_releases_on_errors_that_are_not_failures(breaker: CircuitBreaker, clock: FakeClock) -> None:
    """An exception ``is_failure`` rejects neither counts nor closes; a half-open trial is freed."""
    open_it(breaker)
    clock.advance(RESET_S)

    with pytest.raises(KeyError), breaker.guard(is_failure=lambda exc: isinstance(exc, ConnectionError)):
        raise KeyError("caller's bug")

    assert state_of(breaker) is BreakerState.HALF_OPEN
    assert breaker.admits_now()


def test_guard_refuses_before_running_the_block(breaker: CircuitBreaker) -> None:
    """An open breaker's guard raises before the guarded block runs at all."""
    open_it(breaker)
    ran = False

    with pytest.raises(CircuitOpenError), breaker.guard():
        ran = True

    assert ran is False


async def test_many_coroutines_while_half_open_run_one_trial(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    """Fifty coroutines arriving while half-open: one runs the trial, the others fail fast."""
    open_it(breaker)
    clock.advance(RESET_S)
    release_trial = asyncio.Event()
    entered: list[int] = []

    async def call(n: int) -> str:
        try:
            with breaker.guard():
                entered.append(n)
                await release_trial.wait()
        except CircuitOpenError:
            return "refused"
        return "ran"

    tasks = [asyncio.create_task(call(n)) for n in range(50)]
    for _ in range(5):  # a few loop turns: every task reaches its admit (or its wait)
        await asyncio.sleep(0)
    entered_while_trial_ran = list(entered)
    release_trial.set()
    outcomes = await asyncio.gather(*tasks)

    assert len(entered_while_trial_ran) == 1
    assert outcomes.count("ran") == 1
    assert outcomes.count("refused") == 49
    assert state_of(breaker) is BreakerState.CLOSED


def test_threads_racing_for_the_trial_get_one(breaker: CircuitBreaker, clock: FakeClock) -> None:
    """Threads admitted concurrently while half-open: exactly one receives the trial permit."""
    open_it(breaker)
    clock.advance(RESET_S)
    start = threading.Barrier(16)
    trials: list[bool] = []
    lock = threading.Lock()

    def race() -> None:
        start.wait()
        try:
            permit = breaker.admit()
        except CircuitOpenError:
            return
        with lock:
            trials.append(permit.trial)

    threads = [threading.Thread(target=race) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert trials == [True]


@pytest.mark.parametrize(
    ("threshold", "reset_s"), [(0, 1.0), (1, 0.0), (1, -1.0)], ids=["threshold", "zero", "negative"]
)
def test_refuses_nonsense_configuration(threshold: int, reset_s: float) -> None:
    """A threshold below 1 or a non-positive reset timeout is a programming error."""
    with pytest.raises(ValueError, match="must be"):
        CircuitBreaker("db", failure_threshold=threshold, reset_timeout_s=reset_s)


# --- a recovery probe owns the trials ---------------------------------------------------------


class ProbeStarter:
    """An ``on_open`` callback that counts openings and says whether a probe took over."""

    def __init__(self, *, starts: bool) -> None:
        self.starts = starts
        self.openings = 0

    def __call__(self) -> bool:
        """Count the opening; True when a probe now owns the trials."""
        self.openings += 1
        return self.starts


def probed_breaker(clock: FakeClock, starter: ProbeStarter) -> CircuitBreaker:
    """A breaker like the fixture's, with ``starter`` as its ``on_open``."""
    return CircuitBreaker(
        "db", failure_threshold=THRESHOLD, reset_timeout_s=RESET_S, clock=clock, on_open=starter
    )


def test_on_open_is_told_once_per_opening(clock: FakeClock) -> None:
    """Each move to OPEN calls on_open once; failures while open call it no more."""
    starter = ProbeStarter(starts=False)
    breaker = probed_breaker(clock, starter)

    open_it(breaker)
    with pytest.raises(CircuitOpenError):
        fail(breaker)
    clock.advance(RESET_S)
    fail(breaker)

    assert starter.openings == 2


def test_while_a_probe_owns_the_trials_no_caller_is_one(clock: FakeClock) -> None:
    """With a probe started, callers are refused past the reset timeout, told to wait for its next check."""
    breaker = probed_breaker(clock, ProbeStarter(starts=True))
    open_it(breaker)

    clock.advance(RESET_S * 5)
    breaker.probe_pending(0.4)
    with pytest.raises(CircuitOpenError) as refused:
        breaker.admit()

    assert state_of(breaker) is BreakerState.OPEN
    assert not breaker.admits_now()
    assert refused.value.retry_after_s == pytest.approx(0.4)
    assert "recovery probe" in breaker.describe()


def test_probe_success_closes_at_once(clock: FakeClock) -> None:
    """probe_succeeded closes the circuit without any caller's trial, and calls pass again."""
    breaker = probed_breaker(clock, ProbeStarter(starts=True))
    open_it(breaker)
    breaker.probe_pending(0.1)

    breaker.probe_succeeded()

    assert state_of(breaker) is BreakerState.CLOSED
    breaker.record_success(breaker.admit())
    assert breaker.failures == 0


def test_a_stopped_probe_hands_trials_back_to_callers(clock: FakeClock) -> None:
    """After probe_stopped the timeout rules again: a caller becomes the half-open trial."""
    breaker = probed_breaker(clock, ProbeStarter(starts=True))
    open_it(breaker)

    breaker.probe_stopped()
    clock.advance(RESET_S)

    assert breaker.admit().trial is True
    assert state_of(breaker) is BreakerState.HALF_OPEN


def test_no_probe_started_keeps_timed_trials(clock: FakeClock) -> None:
    """An on_open that starts no probe (no event loop to run it) leaves the timed half-open trial in place."""
    breaker = probed_breaker(clock, ProbeStarter(starts=False))
    open_it(breaker)
    clock.advance(RESET_S)

    assert breaker.admit().trial is True


def test_one_warning_per_state_change_and_none_per_refusal(breaker: CircuitBreaker, clock: FakeClock) -> None:
    """Opened, half-open and closed are each one warning; refused calls log nothing."""
    with capture_logs() as logs:
        open_it(breaker)
        for _ in range(50):
            with pytest.raises(CircuitOpenError):
                breaker.admit()
        clock.advance(RESET_S)
        breaker.record_success(breaker.admit())

    assert [(entry["event"], entry["log_level"]) for entry in logs] == [
        ("circuit.opened", "warning"),
        ("circuit.half_opened", "warning"),
        ("circuit.closed", "warning"),
    ]
