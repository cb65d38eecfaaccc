"""The web shop, orders' pages: the cart, checkout, a customer's orders, and the staff's order board.

Every page reaches the orders service through its gRPC client (the platform's
``OrdersClient``, ``ORDERS_CLIENT``), as the gateway's ``/api/v1/orders`` does, never
the service functions: the signed-in member travels as signed claims and the orders
service decides what they may do (a customer sees and cancels only their own orders;
staff see the shop's and move paid ones along). Its refusals come back as the same
``FolioError``s and become flash messages here: out of stock and an illegal move
(409), an empty cart (422). Another shop's order, or another customer's, is the 404
page.

- ``/cart``: the lines, a copies box per line (0 or Remove takes it out), the total,
  and "Check out and pay", whose form carries an idempotency key made when the page
  was rendered: a double submit places one order.
- ``/cart/add``: one more copy of a listing (the search page's "Add to cart").
- ``/checkout``: places the order and redirects to its page, which links to the
  payment once it is open.
- ``/orders``: a customer's orders, by status, in cursor pages (staff are sent to the
  board); ``/orders/<id>``: one order, with Cancel while it is unpaid.
- ``/board``: staff only, every order of the shop, with the buttons that move a paid
  order to packed, shipped and delivered, and Cancel while unpaid.

The web app's assembly (``folio.entrypoints.web``) registers ``blueprint`` at
``/shop``; the templates are this package's ``templates/shop``.
"""

# mypy: disallow-subclassing-any=False
# (Flask-WTF and WTForms ship no type information, so their classes are Any to mypy.)

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm  # type: ignore[import-untyped]  # ships no py.typed
from wtforms import HiddenField, IntegerField  # type: ignore[import-untyped]  # ships no py.typed
from wtforms.validators import UUID, DataRequired, InputRequired, Length, NumberRange  # type: ignore[import-untyped]  # as above

from folio.core.errors import ConflictError, InvalidCursorError, NotFoundError, ValidationFailedError
from folio.core.security import Principal
from folio.orders.client import ORDERS_CLIENT, OrdersClient
from folio.orders.errors import EmptyCartError, IllegalTransitionError
from folio.orders.schemas import MAX_QUANTITY, CartRead, OrderRead, OrderStatus, allowed_next
from folio.orders.service import MAX_KEY_LENGTH
from folio.webkit.access import login_required, safe_next, signed_in, staff_required
from folio.webkit.bridge import LoopPortal, portal
from folio.webkit.forms import ActionForm

__all__ = ["blueprint"]

blueprint = Blueprint("shop", __name__, template_folder="templates")

STATUS_LABELS: dict[OrderStatus, str] = {
    OrderStatus.PENDING_PAYMENT: "Pending payment",
    OrderStatus.PAID: "Paid",
    OrderStatus.PACKED: "Packed",
    OrderStatus.SHIPPED: "Shipped",
    OrderStatus.DELIVERED: "Delivered",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.REFUNDED: "Refunded",
    OrderStatus.PARTIALLY_REFUNDED: "Partially refunded",
}
"""How the pages name each status (badges, the status filter)."""

MOVE_LABELS: dict[OrderStatus, str] = {
    OrderStatus.PACKED: "Mark packed",
    OrderStatus.SHIPPED: "Mark shipped",
    OrderStatus.DELIVERED: "Mark delivered",
}
"""The staff's buttons, in the order an order takes them."""

MAX_CURSOR = 2048
"""Longest ``after`` cursor the list pages pass on (the REST API's limit)."""


# --- forms -------------------------------------------------------------------------------------


class CartItemForm(FlaskForm):
    """Set how many copies of a listing the cart holds (0 takes it out)."""

    listing_id = HiddenField(validators=[DataRequired(), UUID()])
    quantity = IntegerField(validators=[InputRequired(), NumberRange(min=0, max=MAX_QUANTITY)])


class AddToCartForm(FlaskForm):
    """One more copy of a listing; ``back`` is the page to return to (the search results)."""

    listing_id = HiddenField(validators=[DataRequired(), UUID()])
    back = HiddenField()


class CheckoutForm(FlaskForm):
    """Check the cart out; the key was made when the cart page was rendered."""

    idempotency_key = HiddenField(validators=[DataRequired(), Length(max=MAX_KEY_LENGTH)])


@blueprint.context_processor
def _shop_context() -> dict[str, object]:
    """Status names and, per order, the moves its buttons offer."""
    return {
        "status_labels": {status.value: label for status, label in STATUS_LABELS.items()},
        "moves_of": _staff_moves,
        "cancellable": _cancellable,
    }


def _staff_moves(order: OrderRead) -> list[tuple[str, str]]:
    """``(status, button label)`` of each move staff may make to ``order`` now (at most one)."""
    nexts = allowed_next(order.status)
    return [(status.value, label) for status, label in MOVE_LABELS.items() if status in nexts]


def _cancellable(order: OrderRead) -> bool:
    """Whether ``order`` may still be cancelled (it is unpaid)."""
    return OrderStatus.CANCELLED in allowed_next(order.status)


def _orders(here: LoopPortal) -> OrdersClient:
    """The platform's client of the orders gRPC service."""
    return here.platform.get(ORDERS_CLIENT)


def _sentence(text: str) -> str:
    """A service's detail (lower case, no stop) as a sentence of a flash message."""
    text = text.strip().rstrip(".")
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def _short(order_id: uuid.UUID) -> str:
    """The order number the pages show: the id's first eight characters."""
    return str(order_id)[:8]


def _line_of(cart: CartRead, listing_id: uuid.UUID) -> tuple[str, int]:
    """The title and copies of ``listing_id`` in ``cart`` (("", 0) when it is not there)."""
    line = next((line for line in cart.lines if line.listing_id == listing_id), None)
    return (line.title, line.quantity) if line is not None else ("", 0)


# --- the cart and checkout ---------------------------------------------------------------------


@blueprint.get("/cart")
@login_required
def cart() -> ResponseReturnValue:
    """The cart, priced now; its checkout form carries a fresh idempotency key."""
    here = portal()
    current = here.call(_orders(here).get_cart, principal=signed_in())
    return render_template(
        "shop/cart.html",
        cart=current,
        action=ActionForm(),
        checkout_key=uuid.uuid4().hex,
        max_quantity=MAX_QUANTITY,
        hold_minutes=here.settings.orders.hold_minutes,
    )


@blueprint.post("/cart/items")
@login_required
def set_item() -> ResponseReturnValue:
    """Change how many copies of a line the cart holds (0 takes it out)."""
    form = CartItemForm()
    if not form.validate_on_submit():
        flash(f"Copies are a whole number from 0 to {MAX_QUANTITY}.", "error")
        return redirect(url_for("shop.cart"))
    listing_id = uuid.UUID(form.listing_id.data)
    here = portal()
    try:
        after = here.call(
            _orders(here).set_cart_item,
            principal=signed_in(),
            listing_id=listing_id,
            quantity=form.quantity.data,
        )
    except NotFoundError:
        flash("That book is no longer listed in this shop.", "error")
    except ValidationFailedError as exc:
        flash(_sentence(exc.detail or exc.title), "error")
    else:
        title, copies = _line_of(after, listing_id)
        if copies:
            flash(f"Your cart holds {copies} of “{title}”.", "success")
        else:
            flash("Taken out of your cart.", "success")
    return redirect(url_for("shop.cart"))


@blueprint.post("/cart/add")
@login_required
def add_item() -> ResponseReturnValue:
    """One more copy of a listing in the cart, then back to where the button was."""
    form = AddToCartForm()
    back = safe_next(form.back.data, url_for("shop.cart"))
    if not form.validate_on_submit():
        flash("That is not a book this shop lists.", "error")
        return redirect(back)
    listing_id = uuid.UUID(form.listing_id.data)
    principal = signed_in()
    here = portal()
    client = _orders(here)
    _, held = _line_of(here.call(client.get_cart, principal=principal), listing_id)
    if held >= MAX_QUANTITY:
        flash(f"A cart holds at most {MAX_QUANTITY} copies of one book.", "warning")
        return redirect(back)
    try:
        after = here.call(client.set_cart_item, principal=principal, listing_id=listing_id, quantity=held + 1)
    except NotFoundError:
        flash("That book is no longer listed in this shop.", "error")
    except ValidationFailedError as exc:
        flash(_sentence(exc.detail or exc.title), "error")
    else:
        title, copies = _line_of(after, listing_id)
        flash(f"Added “{title}” to your cart ({copies} in it).", "success")
    return redirect(back)


@blueprint.post("/checkout")
@login_required
def checkout() -> ResponseReturnValue:
    """Place the order (once per key, however often the form is sent), then show it."""
    form = CheckoutForm()
    if not form.validate_on_submit():
        flash("The checkout form was incomplete. Check out again from this page.", "error")
        return redirect(url_for("shop.cart"))
    here = portal()
    try:
        placed = here.call(
            _orders(here).place_order, principal=signed_in(), idempotency_key=form.idempotency_key.data
        )
    except EmptyCartError:
        flash("Your cart is empty: add a book first.", "error")
    except ConflictError as exc:  # out of stock: nothing was held, the cart is kept
        flash(f"{_sentence(exc.detail or exc.title)} Change the copies and check out again.", "error")
    except ValidationFailedError as exc:  # mixed currencies
        flash(_sentence(exc.detail or exc.title), "error")
    else:
        flash(f"Order {_short(placed.id)} is placed; your books are held while you pay.", "success")
        return redirect(url_for("shop.order", order_id=placed.id))
    return redirect(url_for("shop.cart"))


# --- orders ------------------------------------------------------------------------------------


@blueprint.get("/orders")
@login_required
def orders() -> ResponseReturnValue:
    """A customer's orders, newest first; staff see every order on the board instead."""
    if signed_in().is_staff:
        args: dict[str, Any] = request.args.to_dict()
        return redirect(url_for("shop.board", **args))
    return _order_list(board=False)


@blueprint.get("/board")
@staff_required
def board() -> ResponseReturnValue:
    """Every order of the shop, with the buttons that move each along."""
    return _order_list(board=True)


def _order_list(*, board: bool) -> ResponseReturnValue:
    """One page of orders, by status; an unusable status or cursor is ignored with a warning."""
    status = _status_arg(request.args.get("status"))
    after = request.args.get("after") or None
    if after is not None and len(after) > MAX_CURSOR:
        flash("That page link was not understood; showing the newest orders.", "warning")
        after = None
    here = portal()
    listing = _orders(here).list_orders
    try:
        page = here.call(listing, principal=signed_in(), status=status, after=after)
    except InvalidCursorError:
        flash("That page link was not understood; showing the newest orders.", "warning")
        page = here.call(listing, principal=signed_in(), status=status)
    return render_template(
        "shop/orders.html",
        page=page,
        board=board,
        status=status.value if status else None,
        list_endpoint="shop.board" if board else "shop.orders",
        action=ActionForm(),
        back=request.script_root + request.full_path.rstrip("?"),
    )


def _status_arg(text: str | None) -> OrderStatus | None:
    if not text:
        return None
    try:
        return OrderStatus(text)
    except ValueError:
        flash(f"There is no order status {text!r}; showing every order.", "warning")
        return None


@blueprint.get("/orders/<uuid:order_id>")
@login_required
def order(order_id: uuid.UUID) -> ResponseReturnValue:
    """One order: its lines and total, the payment while it is unpaid, and what may be done to it."""
    principal = signed_in()
    here = portal()
    shown = here.call(_orders(here).get_order, principal=principal, order_id=order_id)
    return render_template(
        "shop/order.html",
        order=shown,
        moves=_staff_moves(shown) if principal.is_staff else [],
        can_cancel=_cancellable(shown),
        action=ActionForm(),
    )


@blueprint.post("/orders/<uuid:order_id>/cancel")
@login_required
def cancel(order_id: uuid.UUID) -> ResponseReturnValue:
    """Cancel an unpaid order (its customer or staff); its books go back on the shelf."""
    principal = signed_in()
    if ActionForm().validate_on_submit():
        here = portal()
        try:
            here.call(_orders(here).cancel_order, principal=principal, order_id=order_id)
        except IllegalTransitionError:
            _flash_refused(here, principal, order_id, "cancelled")
        else:
            flash(f"Order {_short(order_id)} is cancelled.", "success")
    return redirect(safe_next(request.form.get("back"), url_for("shop.order", order_id=order_id)))


@blueprint.post("/orders/<uuid:order_id>/move/<any(packed, shipped, delivered):to>")
@staff_required
def move(order_id: uuid.UUID, to: str) -> ResponseReturnValue:
    """Move an order to packed, shipped or delivered (staff)."""
    principal = signed_in()
    target = OrderStatus(to)
    if ActionForm().validate_on_submit():
        here = portal()
        try:
            here.call(_orders(here).advance_order, principal=principal, order_id=order_id, to=target)
        except IllegalTransitionError:
            _flash_refused(here, principal, order_id, STATUS_LABELS[target].lower())
        else:
            flash(f"Order {_short(order_id)} is {STATUS_LABELS[target].lower()}.", "success")
    return redirect(safe_next(request.form.get("back"), url_for("shop.order", order_id=order_id)))


def _flash_refused(here: LoopPortal, principal: Principal, order_id: uuid.UUID, wanted: str) -> None:
    """Say why a move was refused: the order's status now (someone or something moved it first)."""
    now = here.call(_orders(here).get_order, principal=principal, order_id=order_id)
    label = STATUS_LABELS[now.status].lower()
    flash(f"Order {_short(order_id)} is {label} now, so it cannot be {wanted}.", "error")
