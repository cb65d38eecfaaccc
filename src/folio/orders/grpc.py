"""The orders gRPC service: ``folio.orders.v1.OrdersService`` over the orders context's api.

Served by ``python -m folio.entrypoints.grpc orders``. Every call but the payment
outcomes (``ConfirmPayment``, ``AbandonPayment``, ``RecordRefund``) is made for an end
user whose signed claims the interceptor verified (``folio.grpckit.current_caller``);
before acting, the servicer asks the users service whether that user may do the action
now and with which role, and acts as the principal it answers with, never with a role
the caller claimed. The payment outcomes are a service's own calls (the gateway, after
a verified payment webhook) and refuse one made for a user.

Deadlines: the caller's deadline is the call's budget; the users call inherits what is
left, and ``ensure_time_left`` is checked again before the database is touched, so a
call whose caller gave up writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from functools import partial

import grpc
import structlog

from folio.core.db import Database
from folio.core.errors import (
    AuthenticationRequiredError,
    InvalidParam,
    PermissionDeniedError,
    ServiceUnavailableError,
    ValidationFailedError,
)
from folio.core.security import Principal
from folio.core.settings import Settings
from folio.grpckit import ServiceRegistration, current_caller, ensure_time_left
from folio.grpckit.requests import parse_uuid
from folio.orders import api, checkout
from folio.orders.messages import cart_message, order_message, status_from_message
from folio.orders.notifications import order_link
from folio.orders.payments import PaymentProvider
from folio.orders.v1 import orders_pb2, orders_pb2_grpc
from folio.users.api import UsersClient

__all__ = ["SERVICE_NAME", "OrdersServicer", "registration"]

SERVICE_NAME = "folio.orders.v1.OrdersService"

log = structlog.get_logger(__name__)


class OrdersServicer(orders_pb2_grpc.OrdersServiceServicer):
    """``folio.orders.v1.OrdersService``, authorising every call through the users service."""

    def __init__(
        self, db: Database, settings: Settings, users: UsersClient, payments: PaymentProvider | None = None
    ) -> None:
        self.db = db
        self.settings = settings
        self.users = users
        self.payments = payments

    async def _principal(self, action: str) -> Principal:
        """The end user of this call as the users service sees them now; refused unless allowed ``action``."""
        caller = current_caller()
        if caller is None:
            raise AuthenticationRequiredError("the call names no end user (x-folio-principal)")
        principal = await self.users.principal_for(caller, action=action)
        ensure_time_left(action)
        return principal

    async def GetCart(
        self, request: orders_pb2.GetCartRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.GetCartResponse:
        """The caller's cart."""
        principal = await self._principal("orders.read")
        cart = await api.get_cart(self.db, principal=principal)
        return orders_pb2.GetCartResponse(cart=cart_message(cart))

    async def SetCartItem(
        self, request: orders_pb2.SetCartItemRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.SetCartItemResponse:
        """Set one line of the caller's cart."""
        listing_id = parse_uuid(request.listing_id, "listing_id")
        principal = await self._principal("orders.place")
        cart = await api.set_cart_item(
            self.db, principal=principal, listing_id=listing_id, quantity=request.quantity
        )
        return orders_pb2.SetCartItemResponse(cart=cart_message(cart))

    async def CreateOrder(
        self, request: orders_pb2.CreateOrderRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.CreateOrderResponse:
        """Check the cart out; the idempotency key makes a retried create return the first order."""
        principal = await self._principal("orders.place")
        order = await api.place_order(
            self.db,
            principal=principal,
            idempotency_key=request.idempotency_key,
            hold_for=dt.timedelta(minutes=self.settings.orders.hold_minutes),
        )
        if self.payments is not None:
            order = await self._open_payment(order)
        return orders_pb2.CreateOrderResponse(order=order_message(order))

    async def _open_payment(self, order: api.OrderRead) -> api.OrderRead:
        """The saga's second step, at once; when the provider fails, the resume sweep finishes it."""
        try:
            return await checkout.open_payment(
                self.db,
                self.payments,  # type: ignore[arg-type]  # checked by the caller
                tenant_id=order.tenant_id,
                order_id=order.id,
                return_url=partial(order_link, self.settings),
            )
        except Exception as exc:  # noqa: BLE001 - the order stands; the sweep opens its payment later
            log.warning(
                "checkout.payment_not_opened", order_id=str(order.id), problem=f"{type(exc).__name__}: {exc}"
            )
            return order

    async def GetOrder(
        self, request: orders_pb2.GetOrderRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.GetOrderResponse:
        """One order."""
        order_id = parse_uuid(request.order_id, "order_id")
        principal = await self._principal("orders.read")
        order = await api.get_order(self.db, principal=principal, order_id=order_id)
        return orders_pb2.GetOrderResponse(order=order_message(order))

    async def ListOrders(
        self, request: orders_pb2.ListOrdersRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.ListOrdersResponse:
        """A page of orders; ``page_token`` is the previous page's ``next_page_token``."""
        principal = await self._principal("orders.read")
        page = await api.list_orders(
            self.db,
            settings=self.settings,
            principal=principal,
            status=status_from_message(request.status),
            limit=request.page_size or None,
            after=request.page_token or None,
        )
        return orders_pb2.ListOrdersResponse(
            orders=[order_message(order) for order in page.data], next_page_token=page.next_cursor or ""
        )

    async def CancelOrder(
        self, request: orders_pb2.CancelOrderRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.CancelOrderResponse:
        """Cancel an unpaid order."""
        order_id = parse_uuid(request.order_id, "order_id")
        principal = await self._principal("orders.cancel")
        order = await api.cancel_order(self.db, principal=principal, order_id=order_id)
        if self.payments is not None:
            await self._close_payment(order)
        return orders_pb2.CancelOrderResponse(order=order_message(order))

    async def _close_payment(self, order: api.OrderRead) -> None:
        """The saga's compensation: expire the cancelled order's checkout so it cannot be paid any more.

        Best effort: should the provider fail, a payment that still arrives finds the
        order cancelled and is refunded (``checkout.settle_payment``).
        """
        try:
            await checkout.close_payment(
                self.db,
                self.payments,  # type: ignore[arg-type]  # checked by the caller
                tenant_id=order.tenant_id,
                order_id=order.id,
            )
        except Exception as exc:  # noqa: BLE001 - the cancellation stands either way
            log.warning(
                "checkout.payment_not_closed", order_id=str(order.id), problem=f"{type(exc).__name__}: {exc}"
            )

    async def _advance(self, order_id: str, to: api.OrderStatus) -> orders_pb2.Order:
        parsed = parse_uuid(order_id, "order_id")
        principal = await self._principal("orders.fulfil")
        return order_message(await api.advance_order(self.db, principal=principal, order_id=parsed, to=to))

    async def PackOrder(
        self, request: orders_pb2.PackOrderRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.PackOrderResponse:
        """Staff: paid -> packed."""
        return orders_pb2.PackOrderResponse(
            order=await self._advance(request.order_id, api.OrderStatus.PACKED)
        )

    async def ShipOrder(
        self, request: orders_pb2.ShipOrderRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.ShipOrderResponse:
        """Staff: packed -> shipped."""
        return orders_pb2.ShipOrderResponse(
            order=await self._advance(request.order_id, api.OrderStatus.SHIPPED)
        )

    async def DeliverOrder(
        self, request: orders_pb2.DeliverOrderRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.DeliverOrderResponse:
        """Staff: shipped -> delivered."""
        order = await self._advance(request.order_id, api.OrderStatus.DELIVERED)
        return orders_pb2.DeliverOrderResponse(order=order)

    async def ConfirmPayment(
        self, request: orders_pb2.ConfirmPaymentRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.ConfirmPaymentResponse:
        """A service marks an order paid after verifying its payment; a call made for a user is refused."""
        _refuse_users()
        tenant_id = parse_uuid(request.tenant_id, "tenant_id")
        order_id = parse_uuid(request.order_id, "order_id")
        _required(request.payment_reference, "payment_reference", "the verified payment's reference")
        ensure_time_left("confirming the payment")
        if self.payments is None:
            order = await api.confirm_payment(
                self.db, tenant_id=tenant_id, order_id=order_id, payment_reference=request.payment_reference
            )
        else:
            # Paid after the order was cancelled (its hold ran out): refunded, the saga's compensation.
            order = await checkout.settle_payment(
                self.db,
                self.payments,
                tenant_id=tenant_id,
                order_id=order_id,
                reference=request.payment_reference,
            )
        return orders_pb2.ConfirmPaymentResponse(order=order_message(order))

    async def AbandonPayment(
        self, request: orders_pb2.AbandonPaymentRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.AbandonPaymentResponse:
        """A service cancels an order whose checkout expired unpaid (its stock returns); idempotent."""
        _refuse_users()
        tenant_id = parse_uuid(request.tenant_id, "tenant_id")
        order_id = parse_uuid(request.order_id, "order_id")
        _required(request.payment_reference, "payment_reference", "the expired checkout's reference")
        ensure_time_left("abandoning the payment")
        order = await checkout.abandon_payment(
            self.db, tenant_id=tenant_id, order_id=order_id, reference=request.payment_reference
        )
        return orders_pb2.AbandonPaymentResponse(order=order_message(order))

    async def RecordRefund(
        self, request: orders_pb2.RecordRefundRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.RecordRefundResponse:
        """A service records a payment's refund on the order it paid; no order when it paid none."""
        _refuse_users()
        tenant_id = parse_uuid(request.tenant_id, "tenant_id")
        _required(request.payment_intent, "payment_intent", "the refunded PaymentIntent's id")
        if request.refunded_minor <= 0:
            raise ValidationFailedError(
                "refunded_minor must be positive",
                errors=[InvalidParam(name="refunded_minor", reason="the payment's refunded total, > 0")],
            )
        if self.payments is None:
            raise ServiceUnavailableError(
                "this orders service has no payment provider to look the payment up"
            )
        ensure_time_left("recording the refund")
        order = await checkout.refund_payment(
            self.db,
            self.payments,
            tenant_id=tenant_id,
            payment_intent=request.payment_intent,
            refunded_minor=request.refunded_minor,
        )
        if order is None:
            return orders_pb2.RecordRefundResponse()
        return orders_pb2.RecordRefundResponse(order=order_message(order))

    async def WatchOrder(
        self, request: orders_pb2.WatchOrderRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[orders_pb2.WatchOrderResponse]:
        """The order now, then each new version, until a final status or the caller leaves."""
        order_id = parse_uuid(request.order_id, "order_id")
        principal = await self._principal("orders.read")
        async for order in api.watch_order(self.db, principal=principal, order_id=order_id):
            yield orders_pb2.WatchOrderResponse(order=order_message(order))


def _refuse_users() -> None:
    """Payment outcomes come from a service that verified them, never from a call made for a user."""
    if current_caller() is not None:
        raise PermissionDeniedError(
            "payment outcomes come from a service after a verified webhook, not by a user"
        )


def _required(value: str, name: str, reason: str) -> None:
    if not value.strip():
        raise ValidationFailedError(f"{name} is required", errors=[InvalidParam(name=name, reason=reason)])


def registration(
    db: Database, settings: Settings, users: UsersClient, payments: PaymentProvider | None = None
) -> ServiceRegistration:
    """The orders service, ready for ``folio.grpckit.GrpcServer``; ``payments`` opens each order's payment."""
    return ServiceRegistration(
        SERVICE_NAME,
        orders_pb2_grpc.add_OrdersServiceServicer_to_server,
        OrdersServicer(db, settings, users, payments),
    )
