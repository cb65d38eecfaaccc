"""Time budgets: how long the work in progress may still take, handed from call to call.

An HTTP request starts with the gateway's ``gateway.request_budget_s``
(``request_budget``); a gRPC server starts each call with the deadline its caller
sent. Either way the budget lives in a contextvar, and every gRPC call made inside it
gets what is left as its deadline (``call_timeout``), so a service called three hops
down still stops when the user's request is given up. A call made outside any budget
(a CLI command, a worker) gets the configured default.

``ensure_time_left`` is the check a servicer makes before database work: a call whose
caller has given up must not write.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from folio.grpckit.errors import DeadlineExceededError

__all__ = ["MIN_CALL_S", "call_timeout", "ensure_time_left", "request_budget", "time_remaining"]

MIN_CALL_S = 0.01
"""Less time than this left is none: no call can cross a network and back in it."""

_deadline: ContextVar[float | None] = ContextVar("folio_deadline", default=None)


@contextmanager
def request_budget(seconds: float | None) -> Iterator[None]:
    """Give the block ``seconds`` (monotonic) to finish; an inner budget never outlives an outer one.

    ``None`` adds no limit of its own (a call that came without a deadline).
    """
    outer = _deadline.get()
    mine = time.monotonic() + seconds if seconds is not None else None
    deadline = min((d for d in (outer, mine) if d is not None), default=None)
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


def time_remaining() -> float | None:
    """Seconds left in the current budget (may be negative), or None outside any."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def call_timeout(default_s: float) -> float:
    """The deadline of a call made now: what is left of the budget, else ``default_s``.

    Raises ``DeadlineExceededError`` when the budget is spent: the call would fail
    anyway, and making it would start work nobody waits for.
    """
    remaining = time_remaining()
    if remaining is None:
        return default_s
    if remaining < MIN_CALL_S:
        raise DeadlineExceededError("the request's time budget is spent")
    return remaining


def ensure_time_left(what: str) -> None:
    """Raise ``DeadlineExceededError`` unless the current budget leaves time to do ``what``."""
    remaining = time_remaining()
    if remaining is not None and remaining < MIN_CALL_S:
        raise DeadlineExceededError(f"the caller's deadline passed before {what}")
