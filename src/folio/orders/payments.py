"""How an order is paid: a Stripe Checkout Session per order, on the shop's payments account.

``PaymentProvider`` is the port the checkout saga calls; ``StripePayments`` is its one
adapter, the official ``stripe`` library. The same code talks to Folio's own
Stripe-compatible test mode (``folio.payments``, the default: ``api_base`` is the
gateway's ``/stripe``) or to Stripe itself (``api_base`` ``https://api.stripe.com`` and a
live platform key): configuration alone chooses.

Each shop is its own payments account, reached with that shop's secret key:
``key_of(shop)`` answers it (bootstrap wires Folio's test mode, which derives the key
and ensures the shop's webhook endpoint for the saga: ``folio.payments.api.orders_account``).
Stripe itself would be reached the same way with a Connect platform key and the
``Stripe-Account`` header naming each shop's connected account: not wired yet, since
shops have no onboarding to Stripe in Folio.

Every call carries an idempotency key derived from the order (``order-<id>-checkout``),
so a saga step retried after a crash opens, expires or refunds at most once.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from folio.core.platform import Slot
from folio.orders.schemas import OrderRead

__all__ = [
    "PAYMENT_PROVIDER",
    "CheckoutFound",
    "CheckoutOpened",
    "KeyOf",
    "PaymentProvider",
    "StripePayments",
    "payment_events_url",
]


@dataclass(frozen=True)
class CheckoutOpened:
    """A payment opened for an order: the provider's reference and where the customer pays."""

    reference: str
    url: str


@dataclass(frozen=True)
class CheckoutFound:
    """The checkout a payment was made in: its reference and the order it was opened for."""

    reference: str
    order_id: uuid.UUID


class PaymentProvider(Protocol):
    """What the checkout saga needs from a payment provider; every call is idempotent per order."""

    async def open_checkout(self, order: OrderRead, *, success_url: str, cancel_url: str) -> CheckoutOpened:
        """Open the payment of ``order`` (its lines, total and currency); the same order opens once."""

    async def expire_checkout(self, order: OrderRead) -> None:
        """Close the order's unpaid checkout so it can no longer be paid."""

    async def refund(self, order: OrderRead, *, amount_minor: int | None = None) -> None:
        """Refund the order's payment: all of it, or ``amount_minor``."""

    async def find_checkout(self, tenant_id: uuid.UUID, payment: str) -> CheckoutFound | None:
        """The shop's checkout ``payment`` (a PaymentIntent id) was made in; None if it names no order."""


PAYMENT_PROVIDER: Slot[PaymentProvider] = Slot("orders payment provider")
"""The checkout saga's payment provider (bootstrap wires ``StripePayments``)."""

KeyOf = Callable[[uuid.UUID], Awaitable[str]]
"""The secret key of a shop's payments account."""

WebhookSecretsOf = Callable[[uuid.UUID], Awaitable[list[str]]]
"""The live signing secrets of the webhook endpoint a shop's payment events reach Folio's orders through."""

PAYMENT_WEBHOOK_SECRETS: Slot[WebhookSecretsOf] = Slot("orders payment webhook secrets")
"""How the payment-events route verifies what it receives (bootstrap wires payments' endpoint secrets)."""


def payment_events_url(gateway_url: str, tenant_id: uuid.UUID) -> str:
    """Where a shop's payment events reach Folio's orders (the route that verifies them)."""
    return f"{gateway_url.rstrip('/')}/api/v1/orders/payment-events/{tenant_id}"


class StripePayments:
    """``PaymentProvider`` over the official ``stripe`` library (async, httpx)."""

    def __init__(
        self,
        *,
        api_base: str,
        key_of: KeyOf,
        timeout_s: float = 10.0,
    ) -> None:
        import stripe  # only the processes that take payments load it

        self._http = stripe.HTTPXClient(timeout=timeout_s)
        # Every call names its shop's key (``api_key`` in its options); the client's own is never used.
        self._client = stripe.StripeClient(
            "sk_test_named_per_call",
            base_addresses={"api": api_base.rstrip("/")},
            http_client=self._http,
            max_network_retries=2,
        )
        self._key_of = key_of

    async def _options(self, order: OrderRead, step: str) -> dict[str, str]:
        return {"api_key": await self._key_of(order.tenant_id), "idempotency_key": f"order-{order.id}-{step}"}

    async def aclose(self) -> None:
        """Close the HTTP client's connections."""
        await self._http.close_async()  # type: ignore[no-untyped-call]  # the library leaves it unannotated

    async def open_checkout(self, order: OrderRead, *, success_url: str, cancel_url: str) -> CheckoutOpened:
        """Create the order's Checkout Session (mode ``payment``), expiring when its stock hold does."""
        params: dict[str, object] = {
            "mode": "payment",
            "client_reference_id": str(order.id),
            "metadata": {"order_id": str(order.id), "tenant_id": str(order.tenant_id)},
            "success_url": success_url,
            "cancel_url": cancel_url,
            "line_items": [
                {
                    "quantity": line.quantity,
                    "price_data": {
                        "currency": line.currency.lower(),
                        "unit_amount": line.unit_price_minor,
                        "product_data": {"name": line.title},
                    },
                }
                for line in order.lines
            ],
        }
        session = await self._client.v1.checkout.sessions.create_async(
            params,  # type: ignore[arg-type]  # the library's TypedDict, built as a plain dict
            await self._options(order, "checkout"),  # type: ignore[arg-type]
        )
        if session.url is None:
            raise RuntimeError(f"the payment provider opened {session.id} without a page to pay on")
        return CheckoutOpened(reference=session.id, url=session.url)

    async def expire_checkout(self, order: OrderRead) -> None:
        """Expire the order's open Checkout Session (nothing to do when it never opened)."""
        if order.payment_reference is None:
            return
        await self._client.v1.checkout.sessions.expire_async(
            order.payment_reference,
            options=await self._options(order, "expire"),  # type: ignore[arg-type]
        )

    async def refund(self, order: OrderRead, *, amount_minor: int | None = None) -> None:
        """Refund the PaymentIntent behind the order's Checkout Session."""
        if order.payment_reference is None:
            raise ValueError(f"order {order.id} has no payment to refund")
        options = await self._options(order, f"refund-{amount_minor or 'all'}")
        session = await self._client.v1.checkout.sessions.retrieve_async(
            order.payment_reference, options={"api_key": options["api_key"]}
        )
        intent = session.payment_intent
        intent_id = intent if isinstance(intent, str) or intent is None else intent.id
        if intent_id is None:
            raise ValueError(f"order {order.id}'s checkout {session.id} was never paid")
        params: dict[str, object] = {"payment_intent": intent_id}
        if amount_minor is not None:
            params["amount"] = amount_minor
        await self._client.v1.refunds.create_async(params, options)  # type: ignore[arg-type]

    async def find_checkout(self, tenant_id: uuid.UUID, payment: str) -> CheckoutFound | None:
        """The Checkout Session of PaymentIntent ``payment``, and the order its client reference names."""
        sessions = await self._client.v1.checkout.sessions.list_async(
            {"payment_intent": payment, "limit": 1},
            options={"api_key": await self._key_of(tenant_id)},
        )
        for session in sessions.data:
            try:
                order_id = uuid.UUID(str(session.client_reference_id))
            except ValueError:
                return None
            return CheckoutFound(reference=session.id, order_id=order_id)
        return None
