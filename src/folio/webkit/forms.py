"""What every context's web forms share (WTForms through Flask-WTF): every POST form carries a CSRF token.

A context declares its forms next to its views (``<context>/web.py``). Their fields
check only shape (required, length, choices); the domain rules (password policy, slug
uniqueness, quotas) stay in the services, whose ``ValidationFailedError`` and pydantic
errors ``show_errors`` puts back under the matching field, and ``flash_errors`` shows
the rest.
"""

# mypy: disallow-subclassing-any=False
# (Flask-WTF and WTForms ship no type information, so their classes are Any to mypy.)

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus

import pydantic
from flask import flash, request
from flask_wtf import FlaskForm  # type: ignore[import-untyped]  # ships no py.typed
from wtforms import EmailField, SelectChoice  # type: ignore[import-untyped]  # ships no py.typed
from wtforms.validators import DataRequired, Length  # type: ignore[import-untyped]  # ships no py.typed

from folio.core.errors import FolioError, InvalidParam

__all__ = [
    "ActionForm",
    "Choices",
    "choices",
    "email_field",
    "flash_errors",
    "form_status",
    "service_errors",
    "show_errors",
    "validation_errors",
]

Choices = list[SelectChoice]
"""A select field's options."""


def choices(*pairs: tuple[str, str]) -> Choices:
    """Select options from ``(value, label)`` pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def email_field(label: str = "Email") -> EmailField:
    """An e-mail field: required, at most 320 characters, with the browser's e-mail hints."""
    return EmailField(
        label,
        validators=[DataRequired(), Length(max=320)],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )


class ActionForm(FlaskForm):
    """A button-only POST form (logout, complete, delete, remove, unlock): just the CSRF token."""


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


def flash_errors(messages: Iterable[str]) -> None:
    """Flash each of ``messages`` as an error (those ``show_errors`` could not place under a field)."""
    for message in messages:
        flash(message, "error")


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
