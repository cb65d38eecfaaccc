"""``folio.orders.api`` exports exactly its reviewed surface: a name added or removed is a change here."""

from __future__ import annotations

import pytest

import folio.orders.api

pytestmark = pytest.mark.unit

SURFACE = {
    "CARTS_TOPIC",
    "CART_ITEM_ADDED",
    "DEFAULT_HOLD",
    "EVENT_TYPES",
    "FINAL_STATUSES",
    "MAX_CART_LINES",
    "MAX_QUANTITY",
    "ORDERS_CLIENT",
    "PAYMENT_PROVIDER",
    "PAYMENT_WEBHOOK_SECRETS",
    "InvalidPaymentEventError",
    "PaymentProvider",
    "StripePayments",
    "WebhookSecretsOf",
    "payment_events_url",
    "STAFF_MOVES",
    "TOPIC",
    "CartLine",
    "CartRead",
    "EmptyCartError",
    "IllegalTransitionError",
    "MixedCurrenciesError",
    "OrderLineRead",
    "OrderNotFoundError",
    "OrderPage",
    "OrderRead",
    "OrderStatus",
    "OrdersClient",
    "OutOfStockError",
    "advance_order",
    "allowed_next",
    "cancel_order",
    "confirm_payment",
    "expire_reservations",
    "get_cart",
    "get_order",
    "list_orders",
    "place_order",
    "record_refund",
    "set_cart_item",
    "watch_order",
}


def test_orders_api_exports_its_surface() -> None:
    """``__all__`` is the reviewed set, and every name in it resolves."""
    assert set(folio.orders.api.__all__) == SURFACE
    for name in folio.orders.api.__all__:
        assert getattr(folio.orders.api, name) is not None
