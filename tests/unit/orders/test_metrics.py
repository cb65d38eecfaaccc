"""The orders business metrics: orders placed and paid, and revenue, per currency."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from folio.orders.metrics import record_order_paid, record_order_placed

pytestmark = pytest.mark.unit


def _value(name: str, currency: str) -> float:
    return REGISTRY.get_sample_value(name, {"currency": currency}) or 0.0


def test_placed_and_paid_orders_count_per_currency() -> None:
    """A paid order adds one to its currency's paid count and its total to its revenue, nothing to others."""
    before = {
        name: (_value(name, "GBP"), _value(name, "EUR"))
        for name in (
            "folio_orders_placed_total",
            "folio_orders_paid_total",
            "folio_orders_revenue_minor_units_total",
        )
    }
    record_order_placed("GBP")
    record_order_paid("GBP", 2_450)
    record_order_paid("GBP", 550)
    assert _value("folio_orders_placed_total", "GBP") == before["folio_orders_placed_total"][0] + 1
    assert _value("folio_orders_paid_total", "GBP") == before["folio_orders_paid_total"][0] + 2
    revenue = "folio_orders_revenue_minor_units_total"
    assert _value(revenue, "GBP") == before[revenue][0] + 3_000
    assert _value(revenue, "EUR") == before[revenue][1]


def test_a_negative_total_is_refused() -> None:
    """Revenue is a counter: a negative order total is a bug, refused before it corrupts the series."""
    with pytest.raises(ValueError, match="negative"):
        record_order_paid("GBP", -1)
