"""The hosted payment pages: Checkout's card form (``/app/pay/<session id>``) and receipts.

Anyone with a checkout session's URL may pay it, as with Stripe's hosted Checkout: the
session id is unguessable and names its shop, so no sign-in is needed. The form posts
with a CSRF token like every form of the web app; the session is locked while it is
paid, so a double submit charges once. Once paid, the page (a GET after the POST) sends
the customer on to the session's ``success_url`` with a meta refresh and a link: the
web app's ``form-action 'self'`` policy would stop a redirect to another site straight
from the form's POST. Receipts are at ``/app/pay/receipts/<charge id>/<token>``, HTML
or, with ``?format=pdf``, a PDF. The web app's assembly registers ``blueprint`` at
``/pay``.
"""

# mypy: disallow-subclassing-any=False
# (Flask-WTF and WTForms ship no type information, so their classes are Any to mypy.)

from __future__ import annotations

import re
from http import HTTPStatus

import pydantic
from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm  # type: ignore[import-untyped]  # ships no py.typed
from wtforms import EmailField, StringField  # type: ignore[import-untyped]  # ships no py.typed
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp  # type: ignore[import-untyped]  # as above

from folio.payments import service
from folio.payments.calls import allowed_simulation
from folio.payments.errors import CardError
from folio.payments.receipts import format_amount, render_receipt_html, render_receipt_pdf
from folio.payments.schemas import CardDetails
from folio.webkit.bridge import portal
from folio.webkit.forms import flash_errors, show_errors, validation_errors

__all__ = ["blueprint"]

blueprint = Blueprint("pay", __name__, template_folder="templates")

_EXPIRY = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*$")

# Which form field an error belongs under: Stripe's ``param`` of a card error, a card detail's name.
_FIELD_OF_PARAM = {"card[number]": "number", "card[exp_month]": "expiry", "card[exp_year]": "expiry"}
_FIELD_OF_DETAIL = {"number": "number", "exp_month": "expiry", "exp_year": "expiry", "cvc": "cvc"}


class CardForm(FlaskForm):
    """The card form: e-mail for the receipt, number, expiry ``MM / YY`` and CVC."""

    email = EmailField(
        "Email", validators=[Optional(), Email(), Length(max=320)], render_kw={"autocomplete": "email"}
    )
    number = StringField(
        "Card number",
        validators=[DataRequired(), Length(max=30)],
        render_kw={"autocomplete": "cc-number", "inputmode": "numeric", "placeholder": "4242 4242 4242 4242"},
    )
    expiry = StringField(
        "Expiry (MM / YY)",
        validators=[DataRequired(), Regexp(_EXPIRY.pattern, message="Write the expiry as MM / YY.")],
        render_kw={"autocomplete": "cc-exp", "placeholder": "12 / 34"},
    )
    cvc = StringField(
        "CVC",
        validators=[DataRequired(), Regexp(r"^\s*\d{3,4}\s*$", message="The CVC is 3 or 4 digits.")],
        render_kw={"autocomplete": "cc-csc", "inputmode": "numeric", "placeholder": "123"},
    )


def _card(form: CardForm) -> CardDetails:
    match = _EXPIRY.match(form.expiry.data or "")
    month, year = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    return CardDetails.model_validate(
        {
            "number": form.number.data,
            "exp_month": month,
            "exp_year": year,
            "cvc": (form.cvc.data or "").strip(),
        }
    )


@blueprint.context_processor
def _pay_context() -> dict[str, object]:
    return {"format_amount": format_amount}


@blueprint.route("/<session_id>", methods=["GET", "POST"])
def checkout(session_id: str) -> ResponseReturnValue:
    """Show a checkout session: its card form while open, its outcome once complete or expired."""
    here = portal()
    base_url = request.host_url
    view = here.call(
        service.view_checkout_session,
        here.database,
        settings=here.settings,
        session_id=session_id,
        base_url=base_url,
    )
    if view.status != "open":
        return render_template("pay/finished.html", view=view)
    form = CardForm()
    if request.method == "GET" and view.customer_email:
        form.email.data = view.customer_email
    status = HTTPStatus.OK
    if form.validate_on_submit():
        try:
            attempt = here.call(
                service.pay_checkout_session,
                here.database,
                settings=here.settings,
                session_id=session_id,
                card=_card(form),
                email=form.email.data or None,
                base_url=base_url,
                simulate=allowed_simulation(here.settings),
            )
        except pydantic.ValidationError as exc:
            errors = [
                (_FIELD_OF_DETAIL.get(location, ""), message) for location, message in validation_errors(exc)
            ]
            flash_errors(show_errors(form, errors))
            status = HTTPStatus.UNPROCESSABLE_ENTITY
        except CardError as exc:
            form[_FIELD_OF_PARAM.get(exc.param or "", "number")].errors.append(exc.message)
            status = HTTPStatus.PAYMENT_REQUIRED
        else:
            if attempt.declined is None:
                return redirect(url_for(".checkout", session_id=session_id), code=HTTPStatus.SEE_OTHER)
            flash(attempt.declined, "error")
            status = HTTPStatus.PAYMENT_REQUIRED
    elif request.method == "POST":
        status = HTTPStatus.UNPROCESSABLE_ENTITY
    return render_template("pay/checkout.html", view=view, form=form), status


@blueprint.get("/receipts/<charge_id>/<token>")
def receipt(charge_id: str, token: str) -> ResponseReturnValue:
    """A succeeded charge's receipt: HTML, or the PDF with ``?format=pdf``."""
    here = portal()
    found = here.call(
        service.get_receipt,
        here.database,
        settings=here.settings,
        charge_id=charge_id,
        token=token,
        base_url=request.host_url,
    )
    if request.args.get("format") == "pdf":
        response = make_response(render_receipt_pdf(found))
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = f'inline; filename="receipt-{found.receipt_number}.pdf"'
        return response
    return render_receipt_html(found)
