"""Member management for owners and admins: invite, change roles, remove, unlock.

The identity service holds the rules (an admin may not touch an owner, the last owner
stays, seats are a quota); this page shows its refusals as flash messages.
"""

from __future__ import annotations

import uuid

import pydantic
from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from folio.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    ValidationFailedError,
)
from folio.core.security import Role
from folio.entrypoints.web.access import manager_required, portal, signed_in
from folio.entrypoints.web.forms import (
    ActionForm,
    InviteForm,
    RoleForm,
    form_status,
    service_errors,
    show_errors,
    validation_errors,
)
from folio.identity import api as identity

__all__ = ["blueprint"]

blueprint = Blueprint("members", __name__)

REFUSALS = (ConflictError, NotFoundError, PermissionDeniedError, QuotaExceededError, ValidationFailedError)
"""Service refusals shown as a flash message on the members page."""


@blueprint.route("", methods=["GET", "POST"])
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
            _flash_all(show_errors(form, validation_errors(exc)))
        except (ValidationFailedError, ConflictError) as exc:
            _flash_all(show_errors(form, service_errors(exc)))
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


@blueprint.post("/<uuid:user_id>/role")
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


@blueprint.post("/<uuid:user_id>/remove")
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


@blueprint.post("/<uuid:user_id>/unlock")
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


def _flash_all(messages: list[str]) -> None:
    for message in messages:
        flash(message, "error")
