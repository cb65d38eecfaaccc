"""Signing up, in and out, and resetting a password: the pages before the board.

Login failures say only what the member may know: a wrong shop, e-mail or password
all read the same; a locked account says for how long and that a reset link has been
mailed; a throttled one says when to try again.
"""

from __future__ import annotations

import math

import pydantic
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from folio.core.errors import (
    AccountLockedError,
    ConflictError,
    InvalidCredentialsError,
    RateLimitedError,
    ValidationFailedError,
)
from folio.entrypoints.web.access import (
    SESSION_TENANT,
    SESSION_USER,
    current_principal,
    login_required,
    portal,
    safe_next,
)
from folio.entrypoints.web.forms import (
    ActionForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
    form_status,
    service_errors,
    show_errors,
    validation_errors,
)
from folio.entrypoints.web.sessions import rotate_session
from folio.identity import api as identity

__all__ = ["blueprint"]

blueprint = Blueprint("auth", __name__)


@blueprint.get("/")
def landing() -> ResponseReturnValue:
    """Signed-in members go to their start page; everyone else to the login page."""
    principal = current_principal()
    if principal is None:
        return redirect(url_for("auth.login"))
    return redirect(url_for("board.index") if principal.is_staff else url_for("auth.welcome"))


@blueprint.get("/welcome")
@login_required
def welcome() -> ResponseReturnValue:
    """The start page of members without a board (customers)."""
    return render_template("auth/welcome.html")


@blueprint.route("/register", methods=["GET", "POST"])
def register() -> ResponseReturnValue:
    """Open a shop: the new shop's owner is signed in and lands on the empty board."""
    form = RegisterForm()
    if form.validate_on_submit():
        here = portal()
        try:
            data = identity.RegisterShop(
                shop_name=form.shop_name.data,
                shop_slug=form.shop_slug.data,
                email=form.email.data,
                display_name=form.display_name.data,
                password=form.password.data,
            )
            registration = here.call(identity.register_shop, here.database, settings=here.settings, data=data)
        except pydantic.ValidationError as exc:
            _flash_all(show_errors(form, validation_errors(exc)))
        except (ValidationFailedError, ConflictError) as exc:
            _flash_all(show_errors(form, service_errors(exc)))
        else:
            rotate_session(
                **{
                    SESSION_TENANT: str(registration.tenant.id),
                    SESSION_USER: str(registration.user.id),
                    "shop_name": registration.tenant.name,
                    "shop_slug": registration.tenant.slug,
                    "display_name": registration.user.display_name,
                }
            )
            flash(f"Welcome to Folio! {registration.tenant.name} is open, and you are its owner.", "success")
            return redirect(url_for("board.index"))
    return render_template("auth/register.html", form=form), form_status()


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Log in to a shop with e-mail and password."""
    form = LoginForm()
    if request.method == "GET" and not form.shop_slug.data:
        form.shop_slug.data = request.args.get("shop", "")
    status = form_status()
    if form.validate_on_submit():
        here = portal()
        slug = form.shop_slug.data.strip().lower()
        try:
            principal = here.call(
                identity.authenticate_password,
                here.database,
                settings=here.settings,
                limiter=here.rate_limiter,
                shop_slug=slug,
                email=form.email.data,
                password=form.password.data,
                client_ip=request.remote_addr or "unknown",
            )
        except InvalidCredentialsError:
            flash("That shop, e-mail and password do not match an account.", "error")
            status = 401
        except AccountLockedError as exc:
            flash(
                f"This account is locked after too many failed logins. Try again in "
                f"{_duration(exc.retry_after_s)}, or set a new password with the link we have e-mailed you.",
                "error",
            )
            status = 423
        except RateLimitedError as exc:
            flash(f"Too many login attempts. Wait {_duration(exc.retry_after_s)} and try again.", "error")
            status = 429
        else:
            tenant = here.call(identity.get_tenant_by_slug, here.database, slug)
            user = here.call(identity.get_user, here.database, principal.actor_id)
            rotate_session(
                **{
                    SESSION_TENANT: str(principal.tenant_id),
                    SESSION_USER: str(principal.actor_id),
                    "shop_name": tenant.name,
                    "shop_slug": tenant.slug,
                    "display_name": user.display_name,
                }
            )
            flash(f"Welcome back, {user.display_name}.", "success")
            default = url_for("board.index") if principal.is_staff else url_for("auth.welcome")
            return redirect(safe_next(request.args.get("next"), default))
    return render_template("auth/login.html", form=form), status


@blueprint.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out: the session is destroyed and its id forgotten."""
    form = ActionForm()
    if form.validate_on_submit():
        rotate_session()
        flash("You have logged out.", "info")
    return redirect(url_for("auth.login"))


@blueprint.route("/reset", methods=["GET", "POST"])
def reset_request() -> ResponseReturnValue:
    """Ask for a password-reset link (the answer never tells whether the address has an account)."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        here = portal()
        here.call(
            identity.request_password_reset, here.database, settings=here.settings, email=form.email.data
        )
        flash(
            "If that address belongs to an account, a link to set a new password is on its way.",
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form), form_status()


@blueprint.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    """Set a new password with the token from a reset or invitation mail."""
    form = ResetPasswordForm()
    if form.validate_on_submit():
        here = portal()
        try:
            here.call(
                identity.reset_password,
                here.database,
                settings=here.settings,
                limiter=here.rate_limiter,
                token=token,
                new_password=form.password.data,
            )
        except InvalidCredentialsError:
            flash("This link is invalid, used or expired. Ask for a new one below.", "error")
            return redirect(url_for("auth.reset_request"))
        except ValidationFailedError as exc:
            _flash_all(show_errors(form, service_errors(exc, rename={"new_password": "password"})))
        else:
            flash("Your password is set. Log in with it now.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form, token=token), form_status()


def _flash_all(messages: list[str]) -> None:
    for message in messages:
        flash(message, "error")


def _duration(seconds: int) -> str:
    if seconds < 90:  # noqa: PLR2004 - below a minute and a half, seconds read better
        return f"{max(seconds, 1)} seconds"
    return f"{math.ceil(seconds / 60)} minutes"
