"""Identity's DTOs: what the service functions take and return (and the HTTP API shows).

Input rules the schema can state live here (shapes, lengths, the slug and e-mail
patterns); rules that need the database or settings (the password policy, duplicate
slugs) are the service's.

E-mail addresses are normalised (surrounding spaces stripped, lowercased) and checked
against ``EMAIL_PATTERN``: one ``@``, no spaces, a dot in the domain. It is a sanity
check, not RFC 5322: the real proof that an address works is the mail that reaches it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from folio.core.security import Role
from folio.core.text import CleanText

__all__ = [
    "EMAIL_PATTERN",
    "SLUG_PATTERN",
    "ApiKeyCreate",
    "ApiKeyIssued",
    "ApiKeyRead",
    "AssignableRole",
    "EmailAddress",
    "Login",
    "MemberAdd",
    "MemberRead",
    "MemberUpdate",
    "PasswordResetConfirm",
    "PasswordResetRequest",
    "RefreshRequest",
    "RegisterShop",
    "Registration",
    "TenantRead",
    "TokenPair",
    "UserRead",
    "normalise_email",
]

EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"
"""A local part of 1..64 characters, one ``@``, a domain with a dot; no whitespace anywhere."""

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$"
"""3..63 lowercase letters, digits and hyphens, not starting or ending with a hyphen."""

MAX_PASSWORD_INPUT = 1024
"""Longest password the schema accepts at all (hashing megabytes would be a denial of service);
the password policy's own maximum is lower and comes with a clear message."""


def normalise_email(value: str) -> str:
    """``value`` without surrounding whitespace, lowercased: the form addresses are stored and compared in."""
    return value.strip().lower()


def _normalised(value: object) -> object:
    return normalise_email(value) if isinstance(value, str) else value


def _slug(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


EmailAddress = Annotated[
    str,
    BeforeValidator(_normalised),
    CleanText(max_length=320, pattern=EMAIL_PATTERN),
    Field(
        description="E-mail address; stored stripped and lowercased.",
        examples=["ada@example.com"],
    ),
]
"""A validated, normalised e-mail address."""

LoginEmail = Annotated[
    str,
    BeforeValidator(_normalised),
    CleanText(min_length=1, max_length=320),
    Field(
        description="The member's e-mail address (any case).",
        examples=["ada@example.com"],
    ),
]
"""An e-mail address as typed at login: normalised but not pattern-checked (a typo is just a failed login)."""

ShopSlug = Annotated[
    str,
    BeforeValidator(_slug),
    CleanText(pattern=SLUG_PATTERN, min_length=3, max_length=63),
    Field(
        description="The shop's short name in URLs: 3..63 of a-z, 0-9 and '-'.",
        examples=["lighthouse-books"],
    ),
]

DisplayName = Annotated[
    str,
    CleanText(min_length=1, max_length=200),
    Field(description="How the person is named in the app.", examples=["Ada"]),
]

# Verbatim: a password is compared byte for byte, so it is not re-normalised.
Password = Annotated[
    str,
    CleanText(normalise=False, min_length=1, max_length=MAX_PASSWORD_INPUT),
    Field(
        description="A password meeting the password policy (checked by the service).",
        examples=["correct horse battery staple"],
    ),
]

AssignableRole = Literal[Role.ADMIN, Role.STAFF, Role.CUSTOMER]
"""Roles that can be given on creation (members, API keys): everything but ``owner``."""


class TenantRead(BaseModel):
    """A shop."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The shop's id (its tenant id).")
    slug: str = Field(description="Short name used in URLs and at login.", examples=["lighthouse-books"])
    name: str = Field(description="The shop's name.", examples=["Lighthouse Books"])
    plan: str = Field(description="The shop's plan.", examples=["standard"])
    created_at: dt.datetime = Field(description="When the shop registered.")


class UserRead(BaseModel):
    """A person who can log in."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The user's id.")
    email: str = Field(description="The user's e-mail address.", examples=["ada@example.com"])
    display_name: str = Field(description="How the user is named.", examples=["Ada"])


class MemberRead(BaseModel):
    """A member of a shop, with their role there."""

    user_id: uuid.UUID = Field(description="The member's user id.")
    email: str = Field(description="The member's e-mail address.", examples=["ada@example.com"])
    display_name: str = Field(description="How the member is named.", examples=["Ada"])
    role: Role = Field(description="The member's role in this shop.", examples=[Role.STAFF])
    created_at: dt.datetime = Field(description="When the member joined the shop.")
    locked: bool = Field(description="Whether failed logins have locked the account right now.")


class RegisterShop(BaseModel):
    """Register a new shop with its first owner."""

    shop_name: Annotated[str, CleanText(min_length=1, max_length=200)] = Field(
        description="The shop's name.", examples=["Lighthouse Books"]
    )
    shop_slug: ShopSlug
    email: EmailAddress
    display_name: DisplayName
    password: Password


class Registration(BaseModel):
    """The shop and the owner a registration created."""

    tenant: TenantRead = Field(description="The new shop.")
    user: UserRead = Field(description="Its owner.")


class MemberAdd(BaseModel):
    """Add a person to the shop (a new user is invited by mail to set a password)."""

    email: EmailAddress
    display_name: DisplayName
    role: AssignableRole = Field(
        description="Their role; `owner` is granted by an update.", examples=[Role.STAFF]
    )


class MemberUpdate(BaseModel):
    """Change a member's role."""

    role: Role = Field(
        description="The new role (only owners may grant or take `owner`).", examples=[Role.ADMIN]
    )


class ApiKeyCreate(BaseModel):
    """Create an API key acting for the shop with a fixed role."""

    name: Annotated[str, CleanText(min_length=1, max_length=100)] = Field(
        description="What the key is for.", examples=["POS sync"]
    )
    role: AssignableRole = Field(description="The role the key acts with.", examples=[Role.STAFF])


class ApiKeyRead(BaseModel):
    """An API key, without its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The key's id.")
    name: str = Field(description="What the key is for.", examples=["POS sync"])
    role: Role = Field(description="The role the key acts with.", examples=[Role.STAFF])
    created_at: dt.datetime = Field(description="When the key was created.")
    last_used_at: dt.datetime | None = Field(description="Last use, to the minute; None if never used.")
    revoked_at: dt.datetime | None = Field(description="When the key was revoked; None while it works.")


class ApiKeyIssued(ApiKeyRead):
    """A key just created: the only time its secret is shown."""

    key: str = Field(
        description="The key to send as `X-API-Key`. Shown once: only a hash of it is stored.",
        examples=["folio_0d5c..._9a1e..._Zk3..."],
    )


class PasswordResetRequest(BaseModel):
    """Ask for a password-reset mail."""

    email: LoginEmail


class PasswordResetConfirm(BaseModel):
    """Set a new password with the token from a reset (or invitation) mail."""

    token: Annotated[str, CleanText(normalise=False, min_length=1, max_length=200)] = Field(
        description="The token from the mail's link."
    )
    new_password: Password


class Login(BaseModel):
    """A member's credentials for one shop."""

    shop_slug: Annotated[str, CleanText(min_length=1, max_length=63)] = Field(
        description="The shop to log in to.", examples=["lighthouse-books"]
    )
    email: LoginEmail
    password: Annotated[str, CleanText(normalise=False, min_length=1, max_length=MAX_PASSWORD_INPUT)] = Field(
        description="The password.", examples=["correct horse"]
    )


class TokenPair(BaseModel):
    """An access token and the refresh token that renews it."""

    access_token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    refresh_token: str = Field(description="Exchange at /auth/refresh for a new pair; single use.")
    token_type: Literal["bearer"] = Field(default="bearer", description="Always `bearer`.")
    expires_in: int = Field(description="Seconds until the access token expires.", examples=[900])


class RefreshRequest(BaseModel):
    """A refresh token to rotate (or revoke, at logout)."""

    refresh_token: Annotated[str, CleanText(normalise=False, min_length=1)] = Field(
        description="The refresh token of the current pair."
    )
