"""Identity's web pages: signing up, in and out, resetting a password, and managing members.

Two blueprints the web app's assembly (``folio.entrypoints.web``) registers:

- ``auth_blueprint`` (at the web app's root): the pages before the board. Login
  failures say only what the member may know: a wrong shop, e-mail or password all
  read the same; a locked account says for how long and that a reset link has been
  mailed; a throttled one says when to try again.
- ``members_blueprint`` (``/members``), for owners and admins: invite, change roles,
  remove, unlock. The identity service holds the rules (an admin may not touch an
  owner, the last owner stays, seats are a quota); the page shows its refusals as
  flash messages.

The templates are this package's ``templates/auth`` and ``templates/members``.
"""

# mypy: disallow-subclassing-any=False
# (Flask-WTF and WTForms ship no type information, so their classes are Any to mypy.)

from __future__ import annotations

import math
import uuid

import pydantic
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm  # type: ignore[import-untyped]  # ships no py.typed
from wtforms import PasswordField, SelectField, StringField  # type: ignore[import-untyped]  # as above
from wtforms.validators import DataRequired, EqualTo, Length, Regexp  # type: ignore[import-untyped]  # as above

from folio.core.errors import (
    AccountLockedError,
    ConflictError,
    InvalidCredentialsError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitedError,
    ValidationFailedError,
)
from folio.core.security import Role
from folio.identity import api as identity
from folio.webkit.access import (
    current_principal,
    login_required,
    manager_required,
    safe_next,
    sign_in,
    sign_out,
    signed_in,
)
from folio.webkit.bridge import portal
from folio.webkit.forms import (
    ActionForm,
    choices,
    email_field,
    flash_errors,
    form_status,
    service_errors,
    show_errors,
    validation_errors,
)

__all__ = ["auth_blueprint", "members_blueprint"]

auth_blueprint = Blueprint("auth", __name__, template_folder="templates")
members_blueprint = Blueprint("members", __name__, template_folder="templates")

# --- forms -------------------------------------------------------------------------------------

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$"
"""Same rule as identity's ``RegisterShop.shop_slug``: 3..63 of a-z, 0-9 and '-'."""


INVITE_ROLE_CHOICES = [("staff", "Staff"), ("customer", "Customer"), ("admin", "Admin")]
MEMBER_ROLE_CHOICES = [("owner", "Owner"), *INVITE_ROLE_CHOICES]


class RegisterForm(FlaskForm):
    """Open a shop: its name and address, and the owner's account."""

    shop_name = StringField("Shop name", validators=[DataRequired(), Length(max=200)])
    shop_slug = StringField(
        "Shop address",
        validators=[
            DataRequired(),
            Regexp(SLUG_PATTERN, message="Use lowercase letters, digits and dashes (e.g. kallio-books)."),
        ],
        description="Lowercase letters, digits and dashes; you log in with it.",
    )
    display_name = StringField(
        "Your name", validators=[DataRequired(), Length(max=200)], render_kw={"autocomplete": "name"}
    )
    email = email_field()
    password = PasswordField(
        "Password", validators=[DataRequired()], render_kw={"autocomplete": "new-password"}
    )


class LoginForm(FlaskForm):
    """Log in to one shop."""

    shop_slug = StringField(
        "Shop address",
        validators=[DataRequired(), Length(max=63)],
        render_kw={"autocomplete": "organization"},
    )
    email = email_field()
    password = PasswordField(
        "Password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )


class ResetRequestForm(FlaskForm):
    """Ask for a password-reset link."""

    email = email_field()


class ResetPasswordForm(FlaskForm):
    """Choose a new password with a reset (or invitation) link."""

    password = PasswordField(
        "New password", validators=[DataRequired()], render_kw={"autocomplete": "new-password"}
    )
    confirm = PasswordField(
        "Repeat it",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class InviteForm(FlaskForm):
    """Invite someone to the shop by email."""

    email = email_field()
    display_name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Role", choices=choices(*INVITE_ROLE_CHOICES), default="staff")


class RoleForm(FlaskForm):
    """Change one member's role."""

    role = SelectField("Role", choices=choices(*MEMBER_ROLE_CHOICES))


# --- signing up, in and out --------------------------------------------------------------------


@auth_blueprint.get("/")
def landing() -> ResponseReturnValue:
    """Signed-in members go to their start page; everyone else to the login page."""
    principal = current_principal()
    if principal is None:
        return redirect(url_for("auth.login"))
    return redirect(url_for("board.index") if principal.is_staff else url_for("auth.welcome"))


@auth_blueprint.get("/welcome")
@login_required
def welcome() -> ResponseReturnValue:
    """The start page of members without a board (customers)."""
    return render_template("auth/welcome.html")


@auth_blueprint.route("/register", methods=["GET", "POST"])
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
            flash_errors(show_errors(form, validation_errors(exc)))
        except (ValidationFailedError, ConflictError) as exc:
            flash_errors(show_errors(form, service_errors(exc)))
        else:
            _sign_in(registration.tenant, registration.user)
            flash(f"Welcome to Folio! {registration.tenant.name} is open, and you are its owner.", "success")
            return redirect(url_for("board.index"))
    return render_template("auth/register.html", form=form), form_status()


@auth_blueprint.route("/login", methods=["GET", "POST"])
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
            _sign_in(tenant, user)
            flash(f"Welcome back, {user.display_name}.", "success")
            default = url_for("board.index") if principal.is_staff else url_for("auth.welcome")
            return redirect(safe_next(request.args.get("next"), default))
    return render_template("auth/login.html", form=form), status


@auth_blueprint.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out: the session is destroyed and its id forgotten."""
    form = ActionForm()
    if form.validate_on_submit():
        sign_out()
        flash("You have logged out.", "info")
    return redirect(url_for("auth.login"))


@auth_blueprint.route("/reset", methods=["GET", "POST"])
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


@auth_blueprint.route("/reset/<token>", methods=["GET", "POST"])
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
            flash_errors(show_errors(form, service_errors(exc, rename={"new_password": "password"})))
        else:
            flash("Your password is set. Log in with it now.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form, token=token), form_status()


def _sign_in(tenant: identity.TenantRead, user: identity.UserRead) -> None:
    """Start ``user``'s fresh session in ``tenant``, with the names the page header shows."""
    sign_in(
        tenant_id=tenant.id,
        user_id=user.id,
        shop_name=tenant.name,
        shop_slug=tenant.slug,
        display_name=user.display_name,
    )


def _duration(seconds: int) -> str:
    if seconds < 90:  # noqa: PLR2004 - below a minute and a half, seconds read better
        return f"{max(seconds, 1)} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


# --- members -----------------------------------------------------------------------------------

REFUSALS = (ConflictError, NotFoundError, PermissionDeniedError, QuotaExceededError, ValidationFailedError)
"""Service refusals shown as a flash message on the members page."""


@members_blueprint.route("", methods=["GET", "POST"])
@manager_required
def index() -> ResponseReturnValue:
    """The shop's members, and the form that invites one more."""
    principal = signed_in()
    here = portal()
    form = InviteForm()
    if principal.role is not Role.OWNER:
        form.role.choices = [choice for choice in form.role.choices if choice.value != Role.ADMIN.value]
    status = form_status()
    if form.validate_on_submit():
        try:
            data = identity.MemberAdd(
                email=form.email.data, display_name=form.display_name.data, role=form.role.data
            )
            added = here.call(
                identity.add_member, here.database, settings=here.settings, principal=principal, data=data
            )
        except pydantic.ValidationError as exc:
            flash_errors(show_errors(form, validation_errors(exc)))
        except (ValidationFailedError, ConflictError) as exc:
            flash_errors(show_errors(form, service_errors(exc)))
            status = exc.status
        except REFUSALS as exc:
            flash(exc.detail or exc.title, "error")
            status = exc.status
        else:
            flash(
                f"Added {added.display_name} <{added.email}> as {added.role.value}; "
                "an invitation is on its way.",
                "success",
            )
            return redirect(url_for("members.index"))
    members = here.call(identity.list_members, here.database, principal=principal)
    role_forms = {
        member.user_id: RoleForm(formdata=None, prefix=f"m-{member.user_id.hex}", role=member.role.value)
        for member in members
    }
    return (
        render_template(
            "members/index.html", members=members, form=form, role_forms=role_forms, action=ActionForm()
        ),
        status,
    )


@members_blueprint.post("/<uuid:user_id>/role")
@manager_required
def change_role(user_id: uuid.UUID) -> ResponseReturnValue:
    """Give a member another role."""
    principal = signed_in()
    form = RoleForm(prefix=f"m-{user_id.hex}")
    if form.validate_on_submit():
        here = portal()
        try:
            member = here.call(
                identity.update_member_role,
                here.database,
                principal=principal,
                user_id=user_id,
                data=identity.MemberUpdate(role=Role(form.role.data)),
            )
        except REFUSALS as exc:
            flash(exc.detail or exc.title, "error")
        else:
            flash(f"{member.display_name} is now {member.role.value}.", "success")
    else:
        flash("Pick one of the roles offered.", "error")
    return redirect(url_for("members.index"))


@members_blueprint.post("/<uuid:user_id>/remove")
@manager_required
def remove(user_id: uuid.UUID) -> ResponseReturnValue:
    """Remove a member from the shop (their account stays; their session ends at their next click)."""
    principal = signed_in()
    if ActionForm().validate_on_submit():
        here = portal()
        try:
            here.call(identity.remove_member, here.database, principal=principal, user_id=user_id)
        except REFUSALS as exc:
            flash(exc.detail or exc.title, "error")
        else:
            flash("The member was removed from the shop.", "success")
    return redirect(url_for("members.index"))


@members_blueprint.post("/<uuid:user_id>/unlock")
@manager_required
def unlock(user_id: uuid.UUID) -> ResponseReturnValue:
    """Lift a lockout after failed logins."""
    principal = signed_in()
    if ActionForm().validate_on_submit():
        here = portal()
        try:
            here.call(
                identity.unlock_member,
                here.database,
                settings=here.settings,
                limiter=here.rate_limiter,
                principal=principal,
                user_id=user_id,
            )
        except REFUSALS as exc:
            flash(exc.detail or exc.title, "error")
        else:
            flash("The account is unlocked; they can log in again.", "success")
    return redirect(url_for("members.index"))
