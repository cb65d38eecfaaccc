"""The orders use cases: the cart, checkout with stock held, and each move of an order.

Every function enters ``tenant_scope`` itself and runs one unit of work (``Database.run``),
in which the order's change, its stock movement (``folio.catalog.api.take_stock`` /
``return_stock``), its audit event and its outbox event commit together or not at all.

Who may do what: a customer sees and cancels their own orders; staff see every order
of the shop and move paid ones along (packed, shipped, delivered); a verified payment
(``confirm_payment``) and a refund (``record_refund``) come from the payments webhook,
with no principal. An order keyed by an API key has no customer: it is the shop's own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.api import record_change_event, record_event
from folio.catalog.api import listings_by_id, return_stock, take_stock
from folio.core.columns import utcnow
from folio.core.cursors import KeysetCursorCodec
from folio.core.db import Database
from folio.core.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from folio.core.paging import api_page_size, keyset_after, keyset_slice
from folio.core.security import STAFF_ROLES, Principal, require_role
from folio.core.settings import Settings
from folio.core.tenancy import tenant_filter, tenant_scope
from folio.orders.errors import (
    EmptyCartError,
    IllegalTransitionError,
    MixedCurrenciesError,
    OrderNotFoundError,
    OutOfStockError,
)
from folio.orders.events import publish_cart_item_added, publish_order_event
from folio.orders.metrics import record_order_paid, record_order_placed
from folio.orders.models import CartItem, Order, OrderLine
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

__all__ = [
    "DEFAULT_HOLD",
    "STAFF_MOVES",
    "advance_order",
    "cancel_order",
    "confirm_payment",
    "expire_reservations",
    "get_cart",
    "get_order",
    "get_order_in",
    "list_orders",
    "move_by_system",
    "order_read",
    "place_order",
    "record_refund",
    "set_cart_item",
    "watch_order",
]

DEFAULT_HOLD = dt.timedelta(minutes=15)
"""How long checkout holds stock for an order awaiting its payment."""

STAFF_MOVES = frozenset({OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.DELIVERED})
"""The statuses staff move an order to by hand; the rest follow payments and cancellations."""

MAX_KEY_LENGTH = 255
"""Longest idempotency key (Stripe's limit too)."""

WATCH_POLL_S = 0.5
"""How often ``watch_order`` looks for a change: cheap (one primary-key read), and any
replica of the orders service may have made it, so no in-process signal would do."""


def _owner(principal: Principal) -> uuid.UUID:
    """Whose cart: the member's, or the API key's (a shop's own integration)."""
    return principal.actor_id


def order_read(order: Order) -> OrderRead:
    """The DTO of ``order`` and its lines."""
    return OrderRead(
        id=order.id,
        tenant_id=order.tenant_id,
        customer_id=order.customer_id,
        status=OrderStatus(order.status),
        currency=order.currency,
        total_minor=order.total_minor,
        refunded_minor=order.refunded_minor,
        lines=[
            OrderLineRead(
                listing_id=line.listing_id,
                work_id=line.work_id,
                title=line.title,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                currency=line.currency,
                line_total_minor=line.quantity * line.unit_price_minor,
            )
            for line in order.lines
        ],
        payment_url=order.payment_url,
        payment_reference=order.payment_reference,
        reserved_until=order.reserved_until,
        created_at=order.created_at,
        updated_at=order.updated_at,
        version=order.version,
    )


# --- the cart ---------------------------------------------------------------------------------


async def _cart(session: AsyncSession, owner: uuid.UUID) -> CartRead:
    items = list(
        await session.scalars(
            select(CartItem)
            .where(CartItem.owner_id == owner, tenant_filter(CartItem))
            .order_by(CartItem.added_at, CartItem.id)
        )
    )
    listings = await listings_by_id(session, [item.listing_id for item in items])
    # A listing removed since it was added cannot be bought: it leaves the cart.
    lines = [
        CartLine(
            listing_id=item.listing_id,
            work_id=listing.work_id,
            title=listing.title,
            quantity=item.quantity,
            unit_price_minor=listing.price_cents,
            currency=listing.currency,
        )
        for item in items
        if (listing := listings.get(item.listing_id)) is not None
    ]
    currencies = {line.currency for line in lines}
    return CartRead(
        lines=lines,
        total_minor=sum(line.quantity * line.unit_price_minor for line in lines),
        currency=currencies.pop() if len(currencies) == 1 else None,
    )


async def get_cart(db: Database, *, principal: Principal) -> CartRead:
    """The caller's cart in their shop, priced from the listings as they are now."""

    async def work(session: AsyncSession) -> CartRead:
        return await _cart(session, _owner(principal))

    with tenant_scope(principal.tenant_id):
        return await db.run(work, readonly=True)


async def set_cart_item(
    db: Database, *, principal: Principal, listing_id: uuid.UUID, quantity: int
) -> CartRead:
    """Put ``quantity`` copies of a listing in the caller's cart (0 takes it out); the cart after.

    Raises:
        ValidationFailedError: ``quantity`` outside 0..99, or a 51st distinct listing.
        NotFoundError: no such listing in the shop.
    """
    if not 0 <= quantity <= MAX_QUANTITY:
        raise ValidationFailedError(f"quantity must be between 0 and {MAX_QUANTITY}, not {quantity}")
    owner = _owner(principal)

    async def work(session: AsyncSession) -> CartRead:
        item = await session.scalar(
            select(CartItem).where(
                CartItem.owner_id == owner, CartItem.listing_id == listing_id, tenant_filter(CartItem)
            )
        )
        if quantity == 0:
            if item is not None:
                await session.delete(item)
                await session.flush()
            return await _cart(session, owner)
        listing = (await listings_by_id(session, [listing_id])).get(listing_id)
        if listing is None:
            raise NotFoundError(f"no listing {listing_id} in this shop")
        if item is not None:
            item.quantity = quantity
        else:
            held = await session.scalars(
                select(CartItem.id).where(CartItem.owner_id == owner, tenant_filter(CartItem))
            )
            if len(list(held)) >= MAX_CART_LINES:
                raise ValidationFailedError(f"a cart holds at most {MAX_CART_LINES} different listings")
            session.add(
                CartItem(
                    tenant_id=principal.tenant_id, owner_id=owner, listing_id=listing_id, quantity=quantity
                )
            )
            await publish_cart_item_added(
                session, tenant_id=principal.tenant_id, customer_id=owner, listing=listing, quantity=quantity
            )
        await session.flush()
        return await _cart(session, owner)

    with tenant_scope(principal.tenant_id):
        return await db.run(work)


# --- checkout ---------------------------------------------------------------------------------


async def _by_key(session: AsyncSession, owner: uuid.UUID, key: str) -> Order | None:
    return await session.scalar(
        select(Order).where(Order.placed_by == owner, Order.idempotency_key == key, tenant_filter(Order))
    )


async def place_order(
    db: Database, *, principal: Principal, idempotency_key: str, hold_for: dt.timedelta = DEFAULT_HOLD
) -> OrderRead:
    """Turn the caller's cart into an order awaiting payment, holding its stock for ``hold_for``.

    Prices and currency are copied from the listings onto the lines now. The cart is
    emptied. The same ``idempotency_key`` from the same caller returns the order it
    made the first time, whatever the cart holds now, so a retried checkout never makes
    a second order.

    Raises:
        ValidationFailedError: a blank or over-long idempotency key.
        EmptyCartError: nothing to order.
        MixedCurrenciesError: the cart's listings are priced in several currencies.
        OutOfStockError: a listing has fewer copies left than asked for (nothing is held).
    """
    key = idempotency_key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailedError(f"an idempotency key is 1 to {MAX_KEY_LENGTH} characters")
    owner = _owner(principal)
    placed_now = False  # this call's committed try placed it (not a replay): count it once

    async def work(session: AsyncSession) -> OrderRead:
        nonlocal placed_now
        placed_now = False
        earlier = await _by_key(session, owner, key)
        if earlier is not None:
            return order_read(earlier)
        cart = await _cart(session, owner)
        if not cart.lines:
            raise EmptyCartError("the cart is empty")
        if cart.currency is None:
            raise MixedCurrenciesError("the cart mixes currencies; order each currency's books separately")
        wanted = {line.listing_id: line.quantity for line in cart.lines}
        short = set(await take_stock(session, tenant_id=principal.tenant_id, wanted=wanted))
        if short:
            titles = ", ".join(line.title for line in cart.lines if line.listing_id in short)
            raise OutOfStockError(f"not enough copies left of: {titles}")
        now = utcnow()
        order = Order(
            tenant_id=principal.tenant_id,
            customer_id=principal.user_id,
            placed_by=owner,
            idempotency_key=key,
            status=OrderStatus.PENDING_PAYMENT,
            currency=cart.currency,
            total_minor=cart.total_minor,
            refunded_minor=0,
            stock_held=True,
            reserved_until=now + hold_for,
            created_at=now,
            updated_at=now,
            lines=[
                OrderLine(
                    tenant_id=principal.tenant_id,
                    position=position,
                    listing_id=line.listing_id,
                    work_id=line.work_id,
                    title=line.title,
                    quantity=line.quantity,
                    unit_price_minor=line.unit_price_minor,
                    currency=line.currency,
                )
                for position, line in enumerate(cart.lines)
            ],
        )
        session.add(order)
        await session.execute(delete(CartItem).where(CartItem.owner_id == owner, tenant_filter(CartItem)))
        await session.flush()
        placed = order_read(order)
        await record_change_event(
            session,
            principal,
            action="order.placed",
            entity_type="order",
            entity_id=order.id,
            after=placed.model_dump(mode="json"),
        )
        await publish_order_event(session, order, placed=True)
        placed_now = True
        return placed

    with tenant_scope(principal.tenant_id):
        try:
            result = await db.run(work)
        except IntegrityError:
            # Two checkouts raced with one key: the other committed first; answer with its order.
            return await _replay(db, owner, key)
    if placed_now:
        record_order_placed(result.currency)
    return result


async def _replay(db: Database, owner: uuid.UUID, key: str) -> OrderRead:
    async def work(session: AsyncSession) -> OrderRead:
        earlier = await _by_key(session, owner, key)
        if earlier is None:  # pragma: no cover - the integrity error came from elsewhere
            raise IllegalTransitionError("the order could not be placed; try again")
        return order_read(earlier)

    return await db.run(work, readonly=True)


# --- reading ----------------------------------------------------------------------------------


async def _visible(session: AsyncSession, principal: Principal, order_id: uuid.UUID, *, lock: bool) -> Order:
    query = select(Order).where(Order.id == order_id, tenant_filter(Order))
    order = await session.scalar(query.with_for_update() if lock else query)
    if order is None or not (principal.is_staff or order.placed_by == _owner(principal)):
        raise OrderNotFoundError(f"no order {order_id} in this shop")
    return order


async def get_order(db: Database, *, principal: Principal, order_id: uuid.UUID) -> OrderRead:
    """One order: any of the shop's for staff, only their own for a customer (``OrderNotFoundError``)."""

    async def work(session: AsyncSession) -> OrderRead:
        return order_read(await _visible(session, principal, order_id, lock=False))

    with tenant_scope(principal.tenant_id):
        # From the primary: a watcher polls this right after a write.
        return await db.run(work)


async def get_order_in(session: AsyncSession, order_id: uuid.UUID) -> OrderRead | None:
    """The order ``order_id`` of the shop in scope, read in the caller's unit of work; None if none.

    For Folio's own work on an order (a worker's handler), with no principal to check.
    Precondition: ``session``'s transaction runs in the order's ``tenant_scope``.
    """
    order = await session.scalar(select(Order).where(Order.id == order_id, tenant_filter(Order)))
    return None if order is None else order_read(order)


def order_cursor_codec(settings: Settings) -> KeysetCursorCodec:
    """The codec that signs and checks order-list cursors with this deployment's secret."""
    return KeysetCursorCodec(settings.security.secret_key.get_secret_value(), purpose="orders.list")


async def list_orders(
    db: Database,
    *,
    settings: Settings,
    principal: Principal,
    status: OrderStatus | None = None,
    limit: int | None = None,
    after: str | None = None,
) -> OrderPage:
    """The shop's orders (a customer: their own), newest first, ``limit`` per page after ``after``.

    Raises:
        InvalidCursorError: ``after`` was not issued by this list (400).
    """
    size = api_page_size(settings, limit, name="limit")
    codec = order_cursor_codec(settings)
    position = codec.decode(after) if after is not None else None

    async def work(session: AsyncSession) -> OrderPage:
        query = select(Order).where(tenant_filter(Order))
        if not principal.is_staff:
            query = query.where(Order.placed_by == _owner(principal))
        if status is not None:
            query = query.where(Order.status == status)
        if position is not None:
            query = query.where(keyset_after(Order.created_at, Order.id, *position, descending=True))
        rows = list(
            await session.scalars(query.order_by(Order.created_at.desc(), Order.id.desc()).limit(size + 1))
        )
        shown, next_cursor = keyset_slice(
            rows, size, cursor_of=lambda last: codec.encode(last.created_at, last.id)
        )
        return OrderPage(
            data=[order_read(row) for row in shown], next_cursor=next_cursor, has_more=bool(next_cursor)
        )

    with tenant_scope(principal.tenant_id):
        return await db.run(work, readonly=True)


async def watch_order(db: Database, *, principal: Principal, order_id: uuid.UUID) -> AsyncIterator[OrderRead]:
    """The order now, then each new version of it, until it reaches a final status.

    Raises ``OrderNotFoundError`` at once for an order the caller may not see. The
    caller stops watching by leaving the iteration (or cancelling its task).
    """
    seen = -1
    while True:
        order = await get_order(db, principal=principal, order_id=order_id)
        if order.version != seen:
            seen = order.version
            yield order
            if order.status in FINAL_STATUSES:
                return
        await asyncio.sleep(WATCH_POLL_S)


# --- moving an order --------------------------------------------------------------------------


def _check_move(order: Order, to: OrderStatus) -> None:
    current = OrderStatus(order.status)
    if to not in allowed_next(current):
        allowed = ", ".join(sorted(allowed_next(current))) or "nothing: it is final"
        raise IllegalTransitionError(
            f"an order that is {current} cannot become {to} (it may become: {allowed})"
        )


def _held(order: Order) -> dict[uuid.UUID, int]:
    held: dict[uuid.UUID, int] = {}
    for line in order.lines:
        held[line.listing_id] = held.get(line.listing_id, 0) + line.quantity
    return held


async def _move(
    session: AsyncSession,
    order: Order,
    to: OrderStatus,
    *,
    actor: Principal | None,
    reason: str | None = None,
    changes: dict[str, Any] | None = None,
) -> OrderRead:
    """Move ``order`` to ``to`` with its audit and outbox events; stock returns on cancellation."""
    _check_move(order, to)
    before = order_read(order).model_dump(mode="json")
    if to is OrderStatus.CANCELLED and order.stock_held:
        await return_stock(session, tenant_id=order.tenant_id, returned=_held(order))
        order.stock_held = False
    if to is not OrderStatus.PENDING_PAYMENT:
        order.reserved_until = None
    for name, value in (changes or {}).items():
        setattr(order, name, value)
    order.status = to
    order.version += 1
    order.updated_at = utcnow()
    await session.flush()
    after = order_read(order)
    action = f"order.{to.value}"
    if actor is not None:
        await record_change_event(
            session,
            actor,
            action=action,
            entity_type="order",
            entity_id=order.id,
            before=before,
            after=after.model_dump(mode="json"),
        )
    else:
        await record_event(
            session,
            tenant_id=order.tenant_id,
            actor_kind="system",
            actor_id=None,
            action=action,
            entity_type="order",
            entity_id=str(order.id),
            before=before,
            after=after.model_dump(mode="json"),
        )
    await publish_order_event(session, order, reason=reason)
    return after


async def cancel_order(db: Database, *, principal: Principal, order_id: uuid.UUID) -> OrderRead:
    """Cancel an unpaid order (its customer or staff), returning its stock.

    Raises:
        OrderNotFoundError: not an order the caller may see.
        IllegalTransitionError: it is paid already (a paid order is refunded, not cancelled).
    """

    async def work(session: AsyncSession) -> OrderRead:
        order = await _visible(session, principal, order_id, lock=True)
        return await _move(session, order, OrderStatus.CANCELLED, actor=principal, reason="cancelled")

    with tenant_scope(principal.tenant_id):
        return await db.run(work)


async def advance_order(
    db: Database, *, principal: Principal, order_id: uuid.UUID, to: OrderStatus
) -> OrderRead:
    """Move a paid order along by hand (staff): packed, then shipped, then delivered.

    Raises:
        OrderNotFoundError: no such order in the shop (checked before the role).
        PermissionDeniedError: the caller is a customer.
        IllegalTransitionError: ``to`` is not where the order may go next.
    """
    if to not in STAFF_MOVES:
        raise IllegalTransitionError(f"staff move orders to packed, shipped or delivered, not {to}")

    async def work(session: AsyncSession) -> OrderRead:
        order = await _visible(session, principal, order_id, lock=True)
        require_role(principal, STAFF_ROLES, action="move orders")
        return await _move(session, order, to, actor=principal)

    with tenant_scope(principal.tenant_id):
        return await db.run(work)


async def confirm_payment(
    db: Database, *, tenant_id: uuid.UUID, order_id: uuid.UUID, payment_reference: str
) -> OrderRead:
    """Mark an order paid once its payment is verified (a signed webhook); idempotent.

    A second confirmation of the same payment returns the order unchanged.

    Raises:
        OrderNotFoundError: no such order in the shop.
        IllegalTransitionError: the order was cancelled first (its reservation expired):
            the caller refunds the payment.
        PermissionDeniedError: the order is being paid by another payment.
    """
    paid_now = False  # this call's committed try moved it to paid (not a repeated confirmation)

    async def work(session: AsyncSession) -> OrderRead:
        nonlocal paid_now
        paid_now = False
        order = await session.scalar(
            select(Order).where(Order.id == order_id, tenant_filter(Order)).with_for_update()
        )
        if order is None:
            raise OrderNotFoundError(f"no order {order_id} in this shop")
        if order.payment_reference not in (None, payment_reference):
            raise PermissionDeniedError(f"order {order_id} is paid through another payment")
        if order.status != OrderStatus.PENDING_PAYMENT and order.payment_reference == payment_reference:
            return order_read(order)
        moved = await _move(
            session,
            order,
            OrderStatus.PAID,
            actor=None,
            changes={"payment_reference": payment_reference, "stock_held": False},
        )
        paid_now = True
        return moved

    with tenant_scope(tenant_id):
        result = await db.run(work)
    if paid_now:
        record_order_paid(result.currency, result.total_minor)
    return result


async def move_by_system(
    db: Database, *, tenant_id: uuid.UUID, order_id: uuid.UUID, to: OrderStatus, reason: str
) -> OrderRead:
    """Move an order for Folio itself (a payment's outcome, the saga): audited as ``system``.

    Raises:
        OrderNotFoundError: no such order in the shop.
        IllegalTransitionError: ``to`` is not where the order may go next.
    """

    async def work(session: AsyncSession) -> OrderRead:
        order = await session.scalar(
            select(Order).where(Order.id == order_id, tenant_filter(Order)).with_for_update()
        )
        if order is None:
            raise OrderNotFoundError(f"no order {order_id} in this shop")
        return await _move(session, order, to, actor=None, reason=reason)

    with tenant_scope(tenant_id):
        return await db.run(work)


async def record_refund(
    db: Database, *, tenant_id: uuid.UUID, order_id: uuid.UUID, refunded_minor: int
) -> OrderRead:
    """Record that ``refunded_minor`` in all has been refunded (from the payment's refund event).

    The amount is the payment's running total, so a repeated event changes nothing.

    Raises:
        OrderNotFoundError: no such order in the shop.
        ValidationFailedError: more than the order's total.
        IllegalTransitionError: the order was never paid, or is in the post.
    """

    async def work(session: AsyncSession) -> OrderRead:
        order = await session.scalar(
            select(Order).where(Order.id == order_id, tenant_filter(Order)).with_for_update()
        )
        if order is None:
            raise OrderNotFoundError(f"no order {order_id} in this shop")
        if not 0 < refunded_minor <= order.total_minor:
            raise ValidationFailedError(
                f"a refund total is between 1 and {order.total_minor}, not {refunded_minor}"
            )
        if refunded_minor <= order.refunded_minor:
            return order_read(order)
        to = OrderStatus.REFUNDED if refunded_minor == order.total_minor else OrderStatus.PARTIALLY_REFUNDED
        return await _move(session, order, to, actor=None, changes={"refunded_minor": refunded_minor})

    with tenant_scope(tenant_id):
        return await db.run(work)


async def expire_reservations(
    db: Database, *, tenant_id: uuid.UUID, now: dt.datetime | None = None, limit: int = 100
) -> list[OrderRead]:
    """Cancel up to ``limit`` of the shop's unpaid orders whose hold ran out, returning their stock.

    Run on a schedule (``folio orders expire``, and the orders service's own sweep). A
    payment that arrives afterwards finds the order cancelled and is refunded.
    """
    moment = now or utcnow()

    async def work(session: AsyncSession) -> list[OrderRead]:
        expired = await session.scalars(
            select(Order)
            .where(
                Order.status == OrderStatus.PENDING_PAYMENT,
                Order.reserved_until < moment,
                tenant_filter(Order),
            )
            .order_by(Order.reserved_until)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [
            await _move(session, order, OrderStatus.CANCELLED, actor=None, reason="reservation-expired")
            for order in list(expired)
        ]

    with tenant_scope(tenant_id):
        return await db.run(work)
