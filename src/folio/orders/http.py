"""The orders context's HTTP adapter: ``/api/v1/cart`` and ``/api/v1/orders``, through the gRPC client.

Every handler calls the orders service over gRPC with the platform's ``OrdersClient``
(``ORDERS_CLIENT``), never the service functions: the gateway is a client of the
orders service like any other, so the HTTP API and the service share one path. The
caller is authenticated here (``CurrentPrincipal``) and travels as signed claims; the
orders service asks the users service what they may do. A ``FolioError`` the service
raised comes back as the same error and is rendered as the same problem+json body;
the request's remaining time budget is each call's deadline (a 504
``deadline-exceeded`` problem when it runs out).

Shapes follow the tasks v2 routes: lists page with an opaque keyset ``cursor`` and a
``limit``, answering ``{data, next_cursor, has_more}``; ``ETag`` carries the version;
``Location`` names a created order. Checkout takes an ``Idempotency-Key`` header: the
same key returns the order the first request made.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response, status
from pydantic import BaseModel, Field

from folio.core.text import CleanText
from folio.httpkit import ETAG_HEADER, CurrentPrincipal, platform_of, problem_responses
from folio.orders.client import ORDERS_CLIENT, OrdersClient
from folio.orders.errors import InvalidPaymentEventError
from folio.orders.payments import PAYMENT_WEBHOOK_SECRETS
from folio.orders.schemas import MAX_QUANTITY, CartRead, OrderPage, OrderRead, OrderStatus

__all__ = ["OPENAPI_TAGS", "payment_events_router", "router"]

TAG = "orders"
OPENAPI_TAGS: list[dict[str, Any]] = [
    {
        "name": TAG,
        "description": (
            "A customer's cart and checkout, and the shop's orders: customers see their own, staff "
            "see the shop's and move paid orders along (packed, shipped, delivered). Served by the "
            "orders gRPC service; lists page with an opaque `cursor`."
        ),
    }
]
"""Tag descriptions for the app's ``openapi_tags`` (the gateway passes them to FastAPI)."""

router = APIRouter(tags=[TAG])
payment_events_router = APIRouter(tags=[TAG])

MAX_IDEMPOTENCY_KEY = 255


async def _orders(request: Request) -> OrdersClient:
    """The platform's orders client (no I/O, so ``async``)."""
    return platform_of(request).get(ORDERS_CLIENT)


Orders = Annotated[OrdersClient, Depends(_orders)]
OrderId = Annotated[uuid.UUID, Path(description="The order's id.")]


class CartItemSet(BaseModel):
    """How many copies of a listing the cart should hold."""

    quantity: int = Field(
        ge=0, le=MAX_QUANTITY, description="0 takes the listing out of the cart.", examples=[2]
    )


_CART_PROBLEMS = problem_responses(401, 403, 404, 422, 429, 504)
_READ_PROBLEMS = problem_responses(401, 403, 404, 422, 429, 504)
_MOVE_PROBLEMS = problem_responses(401, 403, 404, 409, 422, 429, 504)


def _with_etag(response: Response, order: OrderRead) -> OrderRead:
    response.headers["ETag"] = f'"{order.version}"'
    return order


@router.get(
    "/cart",
    operation_id="getCart",
    summary="The caller's cart",
    response_model=CartRead,
    responses=_CART_PROBLEMS,
)
async def get_cart(*, orders: Orders, principal: CurrentPrincipal) -> CartRead:
    """``GET /api/v1/cart``: priced from the shop's listings as they are now."""
    return await orders.get_cart(principal=principal)


@router.put(
    "/cart/items/{listing_id}",
    operation_id="setCartItem",
    summary="Set how many copies of a listing the cart holds",
    response_model=CartRead,
    responses=_CART_PROBLEMS,
)
async def set_cart_item(
    *,
    orders: Orders,
    principal: CurrentPrincipal,
    listing_id: Annotated[uuid.UUID, Path(description="The shop's listing.")],
    data: Annotated[CartItemSet, Body()],
) -> CartRead:
    """``PUT /api/v1/cart/items/{listing_id}``: the cart after the change (0 removes the line)."""
    return await orders.set_cart_item(principal=principal, listing_id=listing_id, quantity=data.quantity)


@router.post(
    "/orders",
    operation_id="placeOrder",
    summary="Check the cart out",
    description=(
        "Turns the caller's cart into an order awaiting payment and holds its stock. Send a fresh "
        "`Idempotency-Key` per checkout: a retried request with the same key returns the order the "
        "first one made (201 again), never a second order."
    ),
    status_code=status.HTTP_201_CREATED,
    response_model=OrderRead,
    responses={201: {"headers": ETAG_HEADER}, **problem_responses(401, 403, 409, 422, 429, 504)},
)
async def place_order(
    *,
    request: Request,
    response: Response,
    orders: Orders,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[
        Annotated[str, CleanText(min_length=1, max_length=MAX_IDEMPOTENCY_KEY)],
        Header(alias="Idempotency-Key", description="Chosen by the client, one per checkout (a UUID)."),
    ],
) -> OrderRead:
    """``POST /api/v1/orders``: 201 with ``Location`` and ``ETag``."""
    order = await orders.place_order(principal=principal, idempotency_key=idempotency_key)
    response.headers["Location"] = str(request.url_for("get_order", order_id=order.id))
    return _with_etag(response, order)


@router.get(
    "/orders",
    operation_id="listOrders",
    summary="List orders (cursor pages)",
    description=(
        "The shop's orders (customers: their own), newest first. Pass `next_cursor` back as `cursor` "
        "for the next page; an edited or foreign cursor is a 400 `invalid-cursor` problem."
    ),
    response_model=OrderPage,
    responses=problem_responses(400, 401, 403, 422, 429, 504),
)
async def list_orders(
    *,
    orders: Orders,
    principal: CurrentPrincipal,
    status_filter: Annotated[
        OrderStatus | None, Query(alias="status", description="Only orders in this status.")
    ] = None,
    cursor: Annotated[
        Annotated[str, CleanText(max_length=2048)] | None,
        Query(description="`next_cursor` of the previous page; omit for the first."),
    ] = None,
    limit: Annotated[
        int | None,
        Query(
            ge=1, le=1000, description="Orders per page; default and maximum come from the `api` settings."
        ),
    ] = None,
) -> OrderPage:
    """``GET /api/v1/orders``."""
    return await orders.list_orders(principal=principal, status=status_filter, limit=limit, after=cursor)


@router.get(
    "/orders/{order_id}",
    name="get_order",
    operation_id="getOrder",
    summary="Get an order",
    response_model=OrderRead,
    responses={200: {"headers": ETAG_HEADER}, **_READ_PROBLEMS},
)
async def get_order(
    *, response: Response, orders: Orders, principal: CurrentPrincipal, order_id: OrderId
) -> OrderRead:
    """``GET /api/v1/orders/{order_id}``."""
    return _with_etag(response, await orders.get_order(principal=principal, order_id=order_id))


# --- payment events (the checkout saga's webhook) ------------------------------------------------
# Their own router: a payments account signs them, no Folio caller does, so the API's
# authentication and per-caller limits do not apply; the gateway mounts it before
# ``router``, whose /orders/{order_id}/... paths would otherwise match a POST here first.


class PaymentEventAck(BaseModel):
    """What the payment-events route did with an event."""

    received: bool = Field(description="The event was verified.")
    action: str = Field(
        description=(
            "`order-paid`, `order-abandoned`, `order-refunded`, or `ignored` for an event the orders "
            "do not act on (or a refund of a payment that paid no order)."
        )
    )


@payment_events_router.post(
    "/orders/payment-events/{tenant_id}",
    operation_id="receivePaymentEvent",
    summary="Receive a shop's payment event (a signed Stripe-compatible webhook)",
    response_model=PaymentEventAck,
    responses=problem_responses(400, 404, 409, 504),
    include_in_schema=False,
)
async def receive_payment_event(
    tenant_id: Annotated[uuid.UUID, Path(description="The shop whose account sent the event.")],
    request: Request,
    orders: Orders,
    signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> PaymentEventAck:
    """Verify the event with the shop's endpoint secrets, then move the order it concerns.

    - ``checkout.session.completed``: the order is paid (``ConfirmPayment``, which refunds
      a payment that arrived after the order was cancelled);
    - ``checkout.session.expired``: the order is cancelled and its stock returns
      (``AbandonPayment``);
    - ``charge.refunded``: the order the charge's payment paid is refunded, in full or in
      part by the charge's ``amount_refunded`` (``RecordRefund``).

    Each is idempotent, so a redelivered event changes nothing more. Other events are
    acknowledged and left.
    """
    import stripe  # the gateway loads it for this route only

    payload = await request.body()
    secrets = await platform_of(request).get(PAYMENT_WEBHOOK_SECRETS)(tenant_id)
    _verify(stripe, payload, signature, secrets)
    event = json.loads(payload)  # verified: the library's objects hide the plain JSON
    kind = event.get("type")
    if kind not in _HANDLERS:
        return PaymentEventAck(received=True, action="ignored")
    data = event.get("data")
    thing = data.get("object") if isinstance(data, dict) else None
    if not isinstance(thing, dict):
        raise InvalidPaymentEventError(f"the {kind} event carries no object")
    action = await _HANDLERS[kind](orders, tenant_id, thing)
    return PaymentEventAck(received=True, action=action)


def _order_of(session: dict[str, Any]) -> tuple[uuid.UUID, str]:
    """The order a Checkout Session was opened for (``client_reference_id``), and the session's id."""
    reference = session.get("client_reference_id")
    try:
        order_id = uuid.UUID(str(reference))
    except ValueError as exc:
        raise InvalidPaymentEventError(
            f"the checkout session names no order (client_reference_id {reference!r})"
        ) from exc
    session_id = session.get("id")
    if not isinstance(session_id, str) or not session_id:
        raise InvalidPaymentEventError("the checkout session has no id")
    return order_id, session_id


async def _paid(orders: OrdersClient, tenant_id: uuid.UUID, session: dict[str, Any]) -> str:
    order_id, reference = _order_of(session)
    await orders.confirm_payment(tenant_id=tenant_id, order_id=order_id, payment_reference=reference)
    return "order-paid"


async def _expired(orders: OrdersClient, tenant_id: uuid.UUID, session: dict[str, Any]) -> str:
    order_id, reference = _order_of(session)
    await orders.abandon_payment(tenant_id=tenant_id, order_id=order_id, payment_reference=reference)
    return "order-abandoned"


async def _refunded(orders: OrdersClient, tenant_id: uuid.UUID, charge: dict[str, Any]) -> str:
    intent, refunded = charge.get("payment_intent"), charge.get("amount_refunded")
    if not isinstance(intent, str) or not intent:
        return "ignored"  # a charge made without a PaymentIntent paid no order
    if not isinstance(refunded, int) or isinstance(refunded, bool) or refunded <= 0:
        raise InvalidPaymentEventError(f"the refunded charge's amount_refunded is {refunded!r}")
    order = await orders.record_refund(tenant_id=tenant_id, payment_intent=intent, refunded_minor=refunded)
    return "ignored" if order is None else "order-refunded"


_HANDLERS: dict[str, Callable[[OrdersClient, uuid.UUID, dict[str, Any]], Awaitable[str]]] = {
    "checkout.session.completed": _paid,
    "checkout.session.expired": _expired,
    "charge.refunded": _refunded,
}
"""What each payment event the orders follow does (``folio.payments.api.ORDERS_EVENTS``)."""


def _verify(stripe: Any, payload: bytes, signature: str | None, secrets: list[str]) -> None:
    """Check the event's signature with any of ``secrets`` (two while one rolls); a 400 problem otherwise."""
    if signature is None or not secrets:
        raise InvalidPaymentEventError(
            "a payment event needs its Stripe-Signature, for a shop that expects events"
        )
    for secret in secrets:
        try:
            stripe.Webhook.construct_event(payload.decode("utf-8"), signature, secret)
        except (stripe.SignatureVerificationError, ValueError):
            continue
        return
    raise InvalidPaymentEventError("the payment event's signature does not verify")


@router.post(
    "/orders/{order_id}/cancel",
    operation_id="cancelOrder",
    summary="Cancel an unpaid order",
    response_model=OrderRead,
    responses=_MOVE_PROBLEMS,
)
async def cancel_order(
    *, response: Response, orders: Orders, principal: CurrentPrincipal, order_id: OrderId
) -> OrderRead:
    """``POST /api/v1/orders/{order_id}/cancel``: its stock is released; 409 once it is paid."""
    return _with_etag(response, await orders.cancel_order(principal=principal, order_id=order_id))


_MOVES = {"pack": OrderStatus.PACKED, "ship": OrderStatus.SHIPPED, "deliver": OrderStatus.DELIVERED}


@router.post(
    "/orders/{order_id}/{move}",
    operation_id="moveOrder",
    summary="Pack, ship or deliver an order (staff)",
    description="`pack` a paid order, `ship` a packed one, `deliver` a shipped one; any other move is a 409.",
    response_model=OrderRead,
    responses=_MOVE_PROBLEMS,
)
async def move_order(
    *,
    response: Response,
    orders: Orders,
    principal: CurrentPrincipal,
    order_id: OrderId,
    move: Annotated[str, Path(pattern="^(pack|ship|deliver)$", description="`pack`, `ship` or `deliver`.")],
) -> OrderRead:
    """``POST /api/v1/orders/{order_id}/{pack|ship|deliver}``."""
    order = await orders.advance_order(principal=principal, order_id=order_id, to=_MOVES[move])
    return _with_etag(response, order)
