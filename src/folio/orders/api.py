"""The orders context's public surface: what other contexts and entry points may import.

Key contracts: service functions take ``(db, *, principal, ...)`` and apply the role
rules themselves (a customer sees only their own orders; another shop's order is
``OrderNotFoundError``); ``confirm_payment`` and ``record_refund`` take the shop instead,
for a verified payment webhook. Every change of an order is audited and published on
the outbox (topic ``orders``, ``EVENT_TYPES``) in its own transaction; the status
machine is ``allowed_next``, and a move it forbids is ``IllegalTransitionError`` (409).
"""

from __future__ import annotations

from folio.orders.client import ORDERS_CLIENT, OrdersClient
from folio.orders.errors import (
    EmptyCartError,
    IllegalTransitionError,
    InvalidPaymentEventError,
    MixedCurrenciesError,
    OrderNotFoundError,
    OutOfStockError,
)
from folio.orders.events import CART_ITEM_ADDED, CARTS_TOPIC, EVENT_TYPES, TOPIC
from folio.orders.payments import (
    PAYMENT_PROVIDER,
    PAYMENT_WEBHOOK_SECRETS,
    PaymentProvider,
    StripePayments,
    WebhookSecretsOf,
    payment_events_url,
)
from folio.orders.schemas import (
    FINAL_STATUSES,
    MAX_CART_LINES,
    MAX_QUANTITY,
    CartLine,
    CartRead,
    OrderLineRead,
    OrderPage,
    OrderRead,
    OrderStatus,
    allowed_next,
)
from folio.orders.service import (
    DEFAULT_HOLD,
    STAFF_MOVES,
    advance_order,
    cancel_order,
    confirm_payment,
    expire_reservations,
    get_cart,
    get_order,
    list_orders,
    place_order,
    record_refund,
    set_cart_item,
    watch_order,
)

__all__ = [
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
    "STAFF_MOVES",
    "TOPIC",
    "CartLine",
    "CartRead",
    "EmptyCartError",
    "IllegalTransitionError",
    "InvalidPaymentEventError",
    "MixedCurrenciesError",
    "OrderLineRead",
    "OrderNotFoundError",
    "OrderPage",
    "OrderRead",
    "OrderStatus",
    "OrdersClient",
    "OutOfStockError",
    "PaymentProvider",
    "StripePayments",
    "WebhookSecretsOf",
    "advance_order",
    "allowed_next",
    "cancel_order",
    "confirm_payment",
    "expire_reservations",
    "get_cart",
    "get_order",
    "list_orders",
    "payment_events_url",
    "place_order",
    "record_refund",
    "set_cart_item",
    "watch_order",
]
