"""The order state machine: every arrow the docs draw, and nothing else."""

from __future__ import annotations

import pytest

from folio.orders.api import EVENT_TYPES, FINAL_STATUSES, STAFF_MOVES, OrderStatus, allowed_next

pytestmark = pytest.mark.unit

S = OrderStatus
ARROWS = {
    (S.PENDING_PAYMENT, S.PAID),
    (S.PENDING_PAYMENT, S.CANCELLED),
    (S.PAID, S.PACKED),
    (S.PACKED, S.SHIPPED),
    (S.SHIPPED, S.DELIVERED),
    *(
        (origin, refund)
        for origin in (S.PAID, S.PACKED, S.DELIVERED, S.PARTIALLY_REFUNDED)
        for refund in (S.REFUNDED, S.PARTIALLY_REFUNDED)
    ),
}


def test_the_machine_has_exactly_the_documented_arrows() -> None:
    """Each (from, to) pair is allowed if and only if docs/orders.md draws it."""
    for origin in OrderStatus:
        for target in OrderStatus:
            assert (target in allowed_next(origin)) == ((origin, target) in ARROWS), (origin, target)


def test_paid_money_only_leaves_as_a_refund() -> None:
    """No paid status may become cancelled; a shipped order is refunded only once delivered."""
    for paid in (S.PAID, S.PACKED, S.SHIPPED, S.DELIVERED, S.PARTIALLY_REFUNDED):
        assert S.CANCELLED not in allowed_next(paid)
    assert not allowed_next(S.SHIPPED) & {S.REFUNDED, S.PARTIALLY_REFUNDED}


def test_final_statuses_and_staff_moves() -> None:
    """Cancelled and refunded end an order; staff move only along the fulfilment path."""
    assert {S.CANCELLED, S.REFUNDED} == FINAL_STATUSES
    assert {S.PACKED, S.SHIPPED, S.DELIVERED} == STAFF_MOVES


def test_every_status_publishes_a_named_event() -> None:
    """Reaching any status other than the first publishes an event; placing publishes OrderPlaced."""
    assert EVENT_TYPES[None] == "OrderPlaced"
    for status in OrderStatus:
        if status is not S.PENDING_PAYMENT:
            assert EVENT_TYPES[status].startswith("Order")
