"""The orders context's business metrics, in the default registry (the process's ``/metrics``).

Module-level for the reason the cache's are (``folio.core.cache.metrics``): the default
registry refuses a second metric of one name. Labelled by ISO 4217 currency only (a
handful of values); never by shop or order, which would grow without bound. Amounts are
in the currency's minor units, as orders store them.
"""

from __future__ import annotations

from prometheus_client import Counter

__all__ = ["ORDERS_PAID", "ORDERS_PLACED", "REVENUE", "record_order_paid", "record_order_placed"]

ORDERS_PLACED = Counter(
    "folio_orders_placed_total", "Orders placed (checkouts that succeeded).", ["currency"]
)
ORDERS_PAID = Counter("folio_orders_paid_total", "Orders whose payment succeeded.", ["currency"])
REVENUE = Counter(
    "folio_orders_revenue_minor_units_total",
    "Totals of paid orders, in the currency's minor units (cents for EUR and USD).",
    ["currency"],
)


def record_order_placed(currency: str) -> None:
    """Count one order placed in ``currency``; call after its transaction commits."""
    ORDERS_PLACED.labels(currency).inc()


def record_order_paid(currency: str, total_minor: int) -> None:
    """Count one order paid and add its total to the revenue; call once per order (after commit)."""
    if total_minor < 0:
        raise ValueError(f"an order's total is never negative, not {total_minor}")
    ORDERS_PAID.labels(currency).inc()
    REVENUE.labels(currency).inc(total_minor)
