"""Time budgets: the HTTP request's remaining time becomes each call's deadline."""

from __future__ import annotations

import pytest

from folio.grpckit import (
    DeadlineExceededError,
    call_timeout,
    ensure_time_left,
    request_budget,
    time_remaining,
)

pytestmark = pytest.mark.unit


def test_outside_any_budget_a_call_gets_the_default() -> None:
    """No request, no inbound call: the configured default deadline, and nothing is ever too late."""
    assert time_remaining() is None
    assert call_timeout(5.0) == 5.0
    ensure_time_left("anything")


def test_a_call_gets_what_is_left_of_the_budget() -> None:
    """Inside a 2 s budget a call's deadline is at most 2 s, never the longer default."""
    with request_budget(2.0):
        timeout = call_timeout(30.0)
    assert 0 < timeout <= 2.0
    assert time_remaining() is None  # the budget ended with its block


def test_an_inner_budget_never_outlives_the_outer_one() -> None:
    """A server's call budget (its caller's deadline) cannot extend the request's."""
    with request_budget(1.0), request_budget(60.0):
        remaining = time_remaining()
    assert remaining is not None
    assert remaining <= 1.0
    with request_budget(60.0), request_budget(None):
        remaining = time_remaining()
    assert remaining is not None
    assert remaining > 1.0


def test_a_spent_budget_refuses_calls_and_work() -> None:
    """No time left: no call is made and a servicer does not touch the database."""
    with request_budget(-0.5):
        with pytest.raises(DeadlineExceededError):
            call_timeout(5.0)
        with pytest.raises(DeadlineExceededError, match="before writing"):
            ensure_time_left("writing")
