"""What the topology declares for a work queue: names, arguments, the ladder, urgent events."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from folio.messaging.settings import MessagingSettings
from folio.messaging.topology import (
    DEAD_LETTER_EXCHANGE,
    RETRY_RETURN_EXCHANGE,
    WorkQueue,
    event_routing_key,
    is_urgent_event,
    plan,
)

pytestmark = pytest.mark.unit

SETTINGS = MessagingSettings(retry_delays_s=[1.0, 5.0, 30.0], delivery_limit=7)


def test_a_queue_has_two_lanes_a_ladder_and_a_dead_letter_queue() -> None:
    """Webhooks -> webhooks.urgent, one rung per delay named by its milliseconds, webhooks.dead."""
    work = plan(WorkQueue("payments.webhooks"), SETTINGS)
    assert work.lanes == ("payments.webhooks.urgent", "payments.webhooks")
    assert [(rung.name, rung.delay_ms) for rung in work.rungs] == [
        ("payments.webhooks.retry.1000ms", 1000),
        ("payments.webhooks.retry.5000ms", 5000),
        ("payments.webhooks.retry.30000ms", 30000),
    ]
    assert work.dead == "payments.webhooks.dead"
    assert work.all_queues()[-1] == work.dead
    assert len(work.all_queues()) == 6


def test_lanes_are_quorum_queues_dead_lettering_at_least_once_with_a_delivery_limit() -> None:
    """Each lane dead-letters to folio.dead-letter under its queue's name, with the settings' limit."""
    work = plan(WorkQueue("receipts"), SETTINGS)
    assert work.lane_arguments() == {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "x-dead-letter-routing-key": "receipts",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
        "x-delivery-limit": 7,
    }
    rung = work.rungs[1]
    assert work.rung_arguments(rung)["x-message-ttl"] == 5000
    assert work.rung_arguments(rung)["x-dead-letter-exchange"] == RETRY_RETURN_EXCHANGE
    assert work.dead_arguments() == {"x-queue-type": "quorum"}


def test_the_ladder_is_climbed_one_rung_per_failure_then_ends() -> None:
    """Failure n waits on rung n; one failure more than there are rungs has no rung (dead-letter)."""
    work = plan(WorkQueue("receipts"), SETTINGS)
    assert [work.rung_after(n) for n in (1, 2, 3)] == list(work.rungs)
    assert work.rung_after(4) is None
    assert work.rung_after(0) is None


def test_a_queue_may_bring_its_own_ladder_and_limit() -> None:
    """A WorkQueue's own ladder and limit win over the settings'; an empty ladder dead-letters at once."""
    work = plan(WorkQueue("fast", retry_delays_s=(0.05,), delivery_limit=2), SETTINGS)
    assert [rung.delay_ms for rung in work.rungs] == [50]
    assert work.delivery_limit == 2
    assert plan(WorkQueue("none", retry_delays_s=()), SETTINGS).rung_after(1) is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "Upper"},
        {"name": "has space"},
        {"name": "ends.urgent"},
        {"name": "ends.dead"},
        {"name": "x" * 121},
        {"name": "q", "retry_delays_s": (5.0, 1.0)},
        {"name": "q", "retry_delays_s": (0.0,)},
        {"name": "q", "delivery_limit": 0},
        {"name": "q", "bindings": ("",)},
    ],
)
def test_an_impossible_work_queue_is_refused(kwargs: dict[str, object]) -> None:
    """Names clashing with Folio's suffixes, descending ladders, empty bindings fail at declaration."""
    with pytest.raises(ValueError, match=r"queue"):
        WorkQueue(**kwargs)  # type: ignore[arg-type]


def test_the_settings_refuse_a_descending_ladder() -> None:
    """Messaging.retry_delays_s must be positive and ascending."""
    with pytest.raises(ValidationError, match="ascending"):
        MessagingSettings(retry_delays_s=[10.0, 1.0])


def test_urgent_events_match_topic_and_type_case_insensitively() -> None:
    """The default patterns put refunds and password resets in the urgent lane, and nothing else."""
    patterns = MessagingSettings().urgent_events
    assert event_routing_key("orders", "OrderRefunded") == "orders.OrderRefunded"
    assert is_urgent_event("orders", "OrderRefunded", patterns)
    assert is_urgent_event("payments", "charge.refunded", patterns)
    assert is_urgent_event("identity", "password_reset.requested", patterns)
    assert not is_urgent_event("orders", "OrderPlaced", patterns)
    assert not is_urgent_event("orders", "OrderRefunded", ())
