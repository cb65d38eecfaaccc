"""Who is asking: the roles a shop's members hold and the authenticated principal.

Every context's service functions take a ``Principal`` (keyword ``principal=``) and
decide from it what the caller may do; the identity context is the only one that
creates principals (from a session, a JWT or an API key). Keeping the type here lets
contexts check roles without importing identity.

Key contracts:

- A principal always belongs to exactly one tenant (shop): ``principal.tenant_id``.
  Services enter ``tenant_scope(principal.tenant_id)`` before their unit of work.
- Roles are ordered: owner > admin > staff > customer. ``is_staff`` is true for the
  first three; customers see only what is theirs.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from folio.core.errors import PermissionDeniedError

__all__ = ["MANAGER_ROLES", "STAFF_ROLES", "CredentialKind", "Principal", "Role", "require_role"]


class Role(StrEnum):
    """A member's role in one shop."""

    OWNER = "owner"
    ADMIN = "admin"
    STAFF = "staff"
    CUSTOMER = "customer"


STAFF_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.STAFF})
"""Roles that run the shop (everything but ``customer``)."""

MANAGER_ROLES = frozenset({Role.OWNER, Role.ADMIN})
"""Roles that manage members, keys and quotas."""

CredentialKind = Literal["session", "token", "api_key"]


class Principal(BaseModel):
    """An authenticated caller acting in one shop."""

    model_config = ConfigDict(frozen=True)

    tenant_id: uuid.UUID = Field(description="The shop the caller acts in.")
    role: Role = Field(description="The caller's role in that shop.")
    user_id: uuid.UUID | None = Field(default=None, description="The member, or None for an API key.")
    api_key_id: uuid.UUID | None = Field(default=None, description="The API key used, if any.")
    via: CredentialKind = Field(description="How the caller authenticated.")

    @property
    def is_staff(self) -> bool:
        """Whether the caller runs the shop (owner, admin or staff)."""
        return self.role in STAFF_ROLES

    @property
    def is_manager(self) -> bool:
        """Whether the caller manages the shop (owner or admin)."""
        return self.role in MANAGER_ROLES

    @property
    def actor_id(self) -> uuid.UUID:
        """The id the audit trail records: the user, or the API key acting for the shop."""
        actor = self.user_id or self.api_key_id
        if actor is None:  # pragma: no cover - the validator below forbids it
            raise ValueError("a principal has a user or an API key")
        return actor

    @property
    def rate_limit_key(self) -> str:
        """The key per-credential rate limits count under."""
        return f"key:{self.api_key_id}" if self.api_key_id is not None else f"user:{self.user_id}"

    def model_post_init(self, _context: object) -> None:
        """A principal names who acts: a user or an API key."""
        if self.user_id is None and self.api_key_id is None:
            raise ValueError("a principal needs a user_id or an api_key_id")


def require_role(principal: Principal, allowed: frozenset[Role], *, action: str) -> None:
    """Raise ``PermissionDeniedError`` unless ``principal`` holds one of ``allowed``.

    ``action`` completes the sentence "your role may not ..." in the problem detail.
    """
    if principal.role not in allowed:
        raise PermissionDeniedError(f"the {principal.role.value} role may not {action}")
