"""The web app's forms (WTForms through Flask-WTF): every POST form carries a CSRF token.

Fields check only shape (required, length, choices); the domain rules (password policy,
slug uniqueness, quotas) stay in the services, whose ``ValidationFailedError`` and
pydantic errors ``show_errors`` puts back under the matching field.
"""

# mypy: disallow-subclassing-any=False
# (Flask-WTF and WTForms ship no type information, so their classes are Any to mypy.)

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus

import pydantic
from flask import request
from flask_wtf import FlaskForm  # type: ignore[import-untyped]  # ships no py.typed
from wtforms import (  # type: ignore[import-untyped]  # ships no py.typed
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (  # type: ignore[import-untyped]  # ships no py.typed
    DataRequired,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from folio.core.errors import FolioError, InvalidParam

__all__ = [
    "ActionForm",
    "Choices",
    "FilterForm",
    "InviteForm",
    "LoginForm",
    "RegisterForm",
    "ResetPasswordForm",
    "ResetRequestForm",
    "RoleForm",
    "TaskForm",
    "choices",
    "form_status",
    "service_errors",
    "show_errors",
    "validation_errors",
]

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$"
"""Same rule as identity's ``RegisterShop.shop_slug``: 3..63 of a-z, 0-9 and '-'."""


Choices = list[SelectChoice]
"""A select field's options."""


def choices(*pairs: tuple[str, str]) -> Choices:
    """Select options from ``(value, label)`` pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


STATUS_CHOICES = [("todo", "To do"), ("in_progress", "In progress"), ("done", "Done")]
PRIORITY_CHOICES = [("low", "Low"), ("normal", "Normal"), ("high", "High"), ("urgent", "Urgent")]
SORT_CHOICES = [
    ("-created_at", "Newest first"),
    ("created_at", "Oldest first"),
    ("due_date", "Due soonest"),
    ("-due_date", "Due latest"),
    ("-priority", "Most urgent"),
    ("priority", "Least urgent"),
    ("title", "Title A-Z"),
    ("-title", "Title Z-A"),
]
INVITE_ROLE_CHOICES = [("staff", "Staff"), ("customer", "Customer"), ("admin", "Admin")]
MEMBER_ROLE_CHOICES = [("owner", "Owner"), *INVITE_ROLE_CHOICES]


def _email_field(label: str = "Email") -> EmailField:
    return EmailField(
        label,
        validators=[DataRequired(), Length(max=320)],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )


class ActionForm(FlaskForm):
    """A button-only POST form (logout, complete, delete, remove, unlock): just the CSRF token."""


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
    email = _email_field()
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
    email = _email_field()
    password = PasswordField(
        "Password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )


class ResetRequestForm(FlaskForm):
    """Ask for a password-reset link."""

    email = _email_field()


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


class TaskForm(FlaskForm):
    """Create or edit a task; ``assignee_id`` choices are the shop's members (set per request)."""

    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=10_000)])
    status = SelectField("Status", choices=choices(*STATUS_CHOICES), default="todo")
    priority = SelectField("Priority", choices=choices(*PRIORITY_CHOICES), default="normal")
    due_date = DateField("Due", validators=[Optional()])
    tags = StringField(
        "Tags", validators=[Optional(), Length(max=900)], description="Comma-separated, e.g. orders, urgent."
    )
    assignee_id = SelectField("Assignee", choices=choices(("", "Nobody")), default="", validate_choice=True)
    version = HiddenField()


class FilterForm(FlaskForm):
    """The board's filters and sort, read from the query string (a GET form: no CSRF)."""

    class Meta:
        """GET forms change nothing, so they carry no CSRF token."""

        csrf = False

    q = SearchField("Search", validators=[Optional(), Length(max=200)])
    status = SelectField("Status", choices=choices(("", "Any status"), *STATUS_CHOICES), default="")
    priority = SelectField("Priority", choices=choices(("", "Any priority"), *PRIORITY_CHOICES), default="")
    tag = StringField("Tag", validators=[Optional(), Length(max=40)])
    assignee = SelectField("Assignee", choices=choices(("", "Anyone")), default="", validate_choice=False)
    sort = SelectField("Sort", choices=choices(*SORT_CHOICES), default="-created_at")
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1)], default=1)


class InviteForm(FlaskForm):
    """Invite someone to the shop by email."""

    email = _email_field()
    display_name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Role", choices=choices(*INVITE_ROLE_CHOICES), default="staff")


class RoleForm(FlaskForm):
    """Change one member's role."""

    role = SelectField("Role", choices=choices(*MEMBER_ROLE_CHOICES))


def form_status() -> int:
    """The status of a page showing a form: 200 when first shown, 422 when a POST of it was refused."""
    return HTTPStatus.UNPROCESSABLE_ENTITY if request.method == "POST" else HTTPStatus.OK


def show_errors(form: FlaskForm, errors: Iterable[tuple[str, str]]) -> list[str]:
    """Attach ``(field name, message)`` pairs to the form's fields; return those with no field.

    A service names the input as a dotted location (``body.password``, ``shop_slug``);
    its last part that names one of the form's fields wins.
    """
    unplaced: list[str] = []
    for location, message in errors:
        parts = [part for part in str(location).split(".") if part]
        field = next((form[part] for part in reversed(parts) if part in form), None)
        if field is None:
            unplaced.append(message)
        else:
            field.errors = [*field.errors, message]
    return unplaced


def validation_errors(exc: pydantic.ValidationError) -> list[tuple[str, str]]:
    """``(field, message)`` pairs of a DTO that refused the form's values."""
    return [
        (".".join(str(part) for part in error["loc"]), str(error["msg"]).removeprefix("Value error, "))
        for error in exc.errors()
    ]


def service_errors(exc: FolioError, *, rename: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """``(field, message)`` pairs of a service's refusal (its ``errors`` member, when it has one).

    ``ValidationFailedError`` and ``ConflictError`` list the inputs at fault.

    ``rename`` maps a service's input name to the form's field name; an error without
    a list becomes one message under no field.
    """
    rename = rename or {}
    listed = exc.extra.get("errors") or []
    pairs: list[tuple[str, str]] = []
    for item in listed:
        param = item if isinstance(item, InvalidParam) else InvalidParam.model_validate(item)
        last = param.name.rsplit(".", 1)[-1]
        pairs.append((rename.get(last, param.name), param.reason))
    return pairs or [("", exc.detail or exc.title)]
