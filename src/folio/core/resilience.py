"""A circuit breaker: stop calling a dependency that keeps failing, then probe it with one call.

Folio writes its own rather than depending on one: the async breakers on PyPI
(``aiobreaker``, ``aiocircuitbreaker``) are unmaintained since 2021-2022 and untyped,
and the pattern is small enough to own, test with a fake clock and keep dependency-free.

States::

    CLOSED --(failure_threshold consecutive failures)--> OPEN
    OPEN --(reset_timeout_s elapsed; the next call is admitted as the trial)--> HALF_OPEN
    HALF_OPEN --(the trial succeeds)--> CLOSED
    HALF_OPEN --(the trial fails)--> OPEN (the timeout starts again)

While OPEN, and while HALF_OPEN with the trial still running, ``admit`` raises
``CircuitOpenError`` at once: callers fail fast instead of queueing on a dependency
that is down, and the dependency is spared a stampede when it comes back.

A recovery probe may take the trials off the callers' hands: ``on_open`` (given to the
constructor) is told when the circuit opens, and when it answers True a probe owns
the trials from then on (``probe_pending`` before each check, ``probe_succeeded`` when
the dependency answers, ``probe_stopped`` when it gives up). While a probe owns them the
circuit stays OPEN whatever the time, so no caller's request is ever the trial that
finds the dependency still down; the probe closes it as soon as it answers::

    OPEN --(on_open started a probe; its check succeeds)--> CLOSED

The breaker neither awaits nor sleeps: each method is a short critical section under
a ``threading.Lock``, so one breaker is safe to share between coroutines of a loop
and between threads. It knows nothing of what it guards; the caller decides which
outcomes count as failures (``record_failure``), successes (``record_success``) or
neither (``release``: a cancelled call, an error that says nothing about health).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

import structlog

__all__ = ["BreakerState", "CircuitBreaker", "CircuitOpenError", "Clock", "Permit"]

log = structlog.get_logger(__name__)

Clock = Callable[[], float]
"""Seconds on a monotonic scale; ``time.monotonic`` unless a test injects a fake."""


class BreakerState(StrEnum):
    """Where a circuit breaker stands."""

    CLOSED = "closed"
    """Calls pass; consecutive failures are counted."""
    OPEN = "open"
    """Calls fail fast until the reset timeout has passed."""
    HALF_OPEN = "half-open"
    """One trial call may pass; its outcome closes or re-opens the circuit."""


class CircuitOpenError(Exception):
    """Raised by ``admit`` instead of letting a call through; ``retry_after_s`` says when to try."""

    def __init__(self, name: str, state: BreakerState, retry_after_s: float) -> None:
        reason = "a trial call is in progress" if state is BreakerState.HALF_OPEN else "circuit open"
        super().__init__(f"{name}: {reason}; next trial in {retry_after_s:.1f}s")
        self.name = name
        self.state = state
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Permit:
    """A ticket for one admitted call: hand it back through one ``record_*`` or ``release``.

    ``generation`` ties it to the breaker state it was issued in, so an outcome that
    arrives after the state moved on (a slow call admitted before the circuit opened)
    cannot close or re-open the circuit by accident.
    """

    generation: int
    trial: bool


_TRANSITION_EVENTS = {
    BreakerState.OPEN: "circuit.opened",
    BreakerState.HALF_OPEN: "circuit.half_opened",
    BreakerState.CLOSED: "circuit.closed",
}


def _any_exception(exc: BaseException) -> bool:
    return isinstance(exc, Exception)


class CircuitBreaker:
    """A thread- and async-safe circuit breaker with an injectable clock.

    Args:
        name: What it guards, for messages and log lines (``primary``, ``replica``).
        failure_threshold: Consecutive failures that open the circuit (at least 1).
        reset_timeout_s: Seconds the circuit stays open before a trial call may pass.
        clock: Monotonic seconds; tests pass a fake to move time by hand.
        on_open: Called (outside the breaker's lock) each time the circuit opens; it
            returns True when it started a recovery probe that now owns the trials.
    """

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int,
        reset_timeout_s: float,
        clock: Clock = time.monotonic,
        on_open: Callable[[], bool] | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if reset_timeout_s <= 0:
            raise ValueError("reset_timeout_s must be positive")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False
        self._generation = 0
        self._on_open = on_open
        self._probing = False
        self._next_probe_at = 0.0

    # --- reading ------------------------------------------------------------------------------

    @property
    def state(self) -> BreakerState:
        """The current state; an OPEN circuit whose timeout has passed reads HALF_OPEN.

        Reading it changes nothing: the move to HALF_OPEN happens when ``admit``
        hands out the trial permit.
        """
        with self._lock:
            return self._current_state()

    @property
    def failures(self) -> int:
        """Consecutive failures counted while CLOSED (reset by a success)."""
        with self._lock:
            return self._failures

    def admits_now(self) -> bool:
        """Whether ``admit`` would let a call through right now (without taking the trial)."""
        with self._lock:
            state = self._current_state()
            return state is BreakerState.CLOSED or (
                state is BreakerState.HALF_OPEN and not self._trial_in_flight
            )

    def describe(self) -> str:
        """The state in words, for readiness checks and error messages."""
        with self._lock:
            state = self._current_state()
            if state is BreakerState.CLOSED:
                return f"closed ({self._failures}/{self.failure_threshold} consecutive failures)"
            if state is BreakerState.OPEN and self._probing:
                return f"open (a recovery probe checks it; next check in {self._remaining_s():.1f}s)"
            if state is BreakerState.OPEN:
                return f"open (next trial in {self._remaining_s():.1f}s)"
            busy = "a trial call is in progress" if self._trial_in_flight else "the next call is a trial"
            return f"half-open ({busy})"

    # --- the protocol: admit, then record_success / record_failure / release -----------------

    def admit(self) -> Permit:
        """Let one call through, or raise ``CircuitOpenError`` without calling anything.

        In HALF_OPEN exactly one caller gets a ``trial`` permit; every other caller is
        refused until that trial's outcome is recorded.
        """
        with self._lock:
            state = self._current_state()
            if state is BreakerState.CLOSED:
                return Permit(self._generation, trial=False)
            if state is BreakerState.HALF_OPEN and not self._trial_in_flight:
                if self._state is BreakerState.OPEN:
                    self._move_to(BreakerState.HALF_OPEN)
                self._trial_in_flight = True
                return Permit(self._generation, trial=True)
            raise CircuitOpenError(self.name, state, self._remaining_s())

    def record_success(self, permit: Permit) -> None:
        """The admitted call worked: reset the failure count, or close after a trial."""
        with self._lock:
            if permit.generation != self._generation:
                return
            if self._state is BreakerState.HALF_OPEN and permit.trial:
                self._move_to(BreakerState.CLOSED)
            elif self._state is BreakerState.CLOSED:
                self._failures = 0

    def record_failure(self, permit: Permit) -> None:
        """The admitted call failed: count it, opening at the threshold, or re-open after a trial."""
        with self._lock:
            if permit.generation != self._generation:
                return
            if self._state is BreakerState.HALF_OPEN and permit.trial:
                self._move_to(BreakerState.OPEN)
            elif self._state is BreakerState.CLOSED:
                self._failures += 1
                if self._failures >= self.failure_threshold:
                    self._move_to(BreakerState.OPEN)
            opened = self._generation if self._state is BreakerState.OPEN else None
        # Outside the lock: the callback may call back into the breaker.
        if opened is not None and self._on_open is not None and self._on_open():
            with self._lock:
                if self._generation == opened:
                    self._probing = True

    def release(self, permit: Permit) -> None:
        """The admitted call ended without telling anything about health (cancelled, a caller's bug).

        A released trial frees the slot, so the next call becomes the trial.
        """
        with self._lock:
            if permit.generation == self._generation and permit.trial:
                self._trial_in_flight = False

    # --- a recovery probe's side (see the module docstring) ---------------------------------

    def probe_pending(self, delay_s: float) -> None:
        """The probe checks again in ``delay_s``: what refused callers are told to wait."""
        with self._lock:
            self._next_probe_at = self._clock() + delay_s

    def probe_succeeded(self) -> None:
        """The probe found the dependency answering: close the circuit now."""
        with self._lock:
            self._probing = False
            if self._state is not BreakerState.CLOSED:
                self._move_to(BreakerState.CLOSED)

    def probe_stopped(self) -> None:
        """The probe ended without success (shutdown): trials go back to callers after the timeout."""
        with self._lock:
            self._probing = False

    @contextmanager
    def guard(self, is_failure: Callable[[BaseException], bool] = _any_exception) -> Iterator[None]:
        """Run the block as one admitted call: ``with breaker.guard(): await call()``.

        Raises ``CircuitOpenError`` before the block when refused. An exception for
        which ``is_failure`` is true counts as a failure; any other exception
        (cancellation included, by default) releases the permit; no exception is a success.
        """
        permit = self.admit()
        try:
            yield
        except BaseException as exc:
            if is_failure(exc):
                self.record_failure(permit)
            else:
                self.release(permit)
            raise
        self.record_success(permit)

    # --- internals (call with the lock held) --------------------------------------------------

    def _current_state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and not self._probing and self._remaining_s() <= 0:
            return BreakerState.HALF_OPEN
        return self._state

    def _remaining_s(self) -> float:
        if self._state is not BreakerState.OPEN:
            return 0.0
        if self._probing:
            return max(0.0, self._next_probe_at - self._clock())
        return max(0.0, self._opened_at + self.reset_timeout_s - self._clock())

    def _move_to(self, state: BreakerState) -> None:
        previous = self._state
        self._state = state
        # A new generation voids every permit handed out before the move.
        self._generation += 1
        self._trial_in_flight = False
        if state is BreakerState.OPEN:
            self._opened_at = self._clock()
        else:
            self._failures = 0
        # One line per change of state, and none per refused call: the news an on-call
        # person needs (it went down, it is being tried, it is back) without the noise.
        log.warning(_TRANSITION_EVENTS[state], breaker=self.name, previous=previous.value)
