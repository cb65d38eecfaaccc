"""``OrdersClient``: the typed client of the orders gRPC service, what the gateway and web shop call.

Its methods mirror the service functions of ``folio.orders.api`` without the database:
the same keyword arguments, the same DTOs back (``OrderRead``, ``CartRead``,
``OrderPage``), the same ``FolioError``s raised (rebuilt from the call's status
details), so a caller cannot tell it from a local call but for the network. The end
user travels as signed claims; the orders service asks the users service what they may
do. Reads, cart updates, creates (idempotency key) and the payment outcomes
(confirmed, abandoned, refunded: each idempotent) are retried on UNAVAILABLE; cancelling
and moving an order are not.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from folio.core.platform import Slot
from folio.core.security import Principal
from folio.grpckit import ServiceClient
from folio.orders.messages import cart_read, order_read, status_message
from folio.orders.schemas import CartRead, OrderPage, OrderRead, OrderStatus
from folio.orders.v1 import orders_pb2, orders_pb2_grpc

__all__ = ["ORDERS_CLIENT", "OrdersClient"]

WATCH_TIMEOUT_S = 3600.0
"""Longest a watch stays open when no request budget bounds it."""


class OrdersClient(ServiceClient):
    """Calls the orders service (``grpc.orders.target``) with a deadline, retries and signed metadata."""

    service_name = "folio.orders.v1.OrdersService"
    audience = "orders"
    idempotent_methods = frozenset(
        {
            "GetCart",
            "SetCartItem",
            "CreateOrder",
            "GetOrder",
            "ListOrders",
            "ConfirmPayment",
            "AbandonPayment",
            "RecordRefund",
            "WatchOrder",
        }
    )

    @property
    def _stub(self) -> orders_pb2_grpc.OrdersServiceStub:
        return orders_pb2_grpc.OrdersServiceStub(self.channel)

    async def _order(self, method: str, request: object, principal: Principal | None) -> OrderRead:
        response = await self.unary(getattr(self._stub, method), request, principal=principal)
        return order_read(response.order)

    async def get_cart(self, *, principal: Principal) -> CartRead:
        """The caller's cart, priced now."""
        response = await self.unary(self._stub.GetCart, orders_pb2.GetCartRequest(), principal=principal)
        return cart_read(response.cart)

    async def set_cart_item(self, *, principal: Principal, listing_id: uuid.UUID, quantity: int) -> CartRead:
        """Put ``quantity`` copies of a listing in the caller's cart (0 takes it out)."""
        request = orders_pb2.SetCartItemRequest(listing_id=str(listing_id), quantity=quantity)
        response = await self.unary(self._stub.SetCartItem, request, principal=principal)
        return cart_read(response.cart)

    async def place_order(self, *, principal: Principal, idempotency_key: str) -> OrderRead:
        """Check the caller's cart out; the same key returns the same order (safe to retry)."""
        request = orders_pb2.CreateOrderRequest(idempotency_key=idempotency_key)
        return await self._order("CreateOrder", request, principal)

    async def get_order(self, *, principal: Principal, order_id: uuid.UUID) -> OrderRead:
        """One order (``OrderNotFoundError`` for one the caller may not see)."""
        return await self._order("GetOrder", orders_pb2.GetOrderRequest(order_id=str(order_id)), principal)

    async def list_orders(
        self,
        *,
        principal: Principal,
        status: OrderStatus | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> OrderPage:
        """A page of the shop's orders (a customer's own), newest first, after the cursor ``after``."""
        request = orders_pb2.ListOrdersRequest(
            page_size=limit or 0, page_token=after or "", status=status_message(status)
        )
        response = await self.unary(self._stub.ListOrders, request, principal=principal)
        next_cursor = response.next_page_token or None
        return OrderPage(
            data=[order_read(order) for order in response.orders],
            next_cursor=next_cursor,
            has_more=next_cursor is not None,
        )

    async def cancel_order(self, *, principal: Principal, order_id: uuid.UUID) -> OrderRead:
        """Cancel an unpaid order."""
        return await self._order(
            "CancelOrder", orders_pb2.CancelOrderRequest(order_id=str(order_id)), principal
        )

    async def advance_order(self, *, principal: Principal, order_id: uuid.UUID, to: OrderStatus) -> OrderRead:
        """Move an order to packed, shipped or delivered (staff)."""
        moves = {
            OrderStatus.PACKED: ("PackOrder", orders_pb2.PackOrderRequest),
            OrderStatus.SHIPPED: ("ShipOrder", orders_pb2.ShipOrderRequest),
            OrderStatus.DELIVERED: ("DeliverOrder", orders_pb2.DeliverOrderRequest),
        }
        if to not in moves:
            raise ValueError(f"orders are moved by hand to packed, shipped or delivered, not {to}")
        method, request_type = moves[to]
        return await self._order(method, request_type(order_id=str(order_id)), principal)

    async def confirm_payment(
        self, *, tenant_id: uuid.UUID, order_id: uuid.UUID, payment_reference: str
    ) -> OrderRead:
        """Mark an order paid after a verified payment (a service's own call: no end user); idempotent."""
        request = orders_pb2.ConfirmPaymentRequest(
            tenant_id=str(tenant_id), order_id=str(order_id), payment_reference=payment_reference
        )
        return await self._order("ConfirmPayment", request, None)

    async def abandon_payment(
        self, *, tenant_id: uuid.UUID, order_id: uuid.UUID, payment_reference: str
    ) -> OrderRead:
        """Cancel an order whose checkout ``payment_reference`` expired unpaid (a service's); idempotent."""
        request = orders_pb2.AbandonPaymentRequest(
            tenant_id=str(tenant_id), order_id=str(order_id), payment_reference=payment_reference
        )
        return await self._order("AbandonPayment", request, None)

    async def record_refund(
        self, *, tenant_id: uuid.UUID, payment_intent: str, refunded_minor: int
    ) -> OrderRead | None:
        """Record that ``refunded_minor`` of a payment is refunded in all; the order it paid, if any."""
        request = orders_pb2.RecordRefundRequest(
            tenant_id=str(tenant_id), payment_intent=payment_intent, refunded_minor=refunded_minor
        )
        response = await self.unary(self._stub.RecordRefund, request, principal=None)
        return order_read(response.order) if response.HasField("order") else None

    async def watch_order(self, *, principal: Principal, order_id: uuid.UUID) -> AsyncIterator[OrderRead]:
        """The order now, then each new version, until a final status (or the caller stops iterating)."""
        method = self._stub.WatchOrder

        def bounded(request: object, *, metadata: object) -> object:
            # A watch is long by nature: its own bound, cut short by any request budget.
            return method(request, metadata=metadata, timeout=WATCH_TIMEOUT_S)

        request = orders_pb2.WatchOrderRequest(order_id=str(order_id))
        async for response in self.stream(bounded, request, principal=principal):
            yield order_read(response.order)


ORDERS_CLIENT: Slot[OrdersClient] = Slot("orders client")
"""Where bootstrap puts the process's client of the orders service."""
