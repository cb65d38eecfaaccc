"""The orders context's errors: each a problem with its own ``code``."""

from __future__ import annotations

from folio.core.errors import ConflictError, FolioError, NotFoundError, ValidationFailedError

__all__ = [
    "EmptyCartError",
    "IllegalTransitionError",
    "InvalidPaymentEventError",
    "MixedCurrenciesError",
    "OrderNotFoundError",
    "OutOfStockError",
]


class OrderNotFoundError(NotFoundError, code="order-not-found", title="Order not found"):
    """No such order in the shop, or not one the caller may see."""


class IllegalTransitionError(ConflictError, code="illegal-transition", title="Illegal order transition"):
    """The order's status does not allow the change asked for (it is never changed silently)."""


class OutOfStockError(ConflictError, code="out-of-stock", title="Out of stock"):
    """A listing in the cart has fewer copies left than the cart asks for."""


class EmptyCartError(ValidationFailedError, code="empty-cart", title="Empty cart"):
    """Checking out a cart with nothing in it."""


class MixedCurrenciesError(ValidationFailedError, code="mixed-currencies", title="Mixed currencies"):
    """A cart whose listings are priced in more than one currency cannot become one order."""


class InvalidPaymentEventError(
    FolioError, code="invalid-payment-event", title="Invalid payment event", status=400
):
    """A payment event whose signature does not verify, or that names no order."""
