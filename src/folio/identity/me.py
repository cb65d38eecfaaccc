"""Who am I: the caller's shop, user and role, as an API client sees them (``GET /api/v1/me``)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import Database
from folio.core.errors import NotFoundError
from folio.core.security import CredentialKind, Principal, Role
from folio.core.tenancy import tenant_scope
from folio.identity.repository import IdentityRepository
from folio.identity.schemas import TenantRead, UserRead

__all__ = ["Me", "get_me"]


class Me(BaseModel):
    """The authenticated caller: the shop they act in, as whom, and with which role."""

    tenant: TenantRead = Field(description="The shop the caller acts in.")
    user: UserRead | None = Field(description="The member, or null when an API key calls.")
    api_key_id: uuid.UUID | None = Field(default=None, description="The API key used, if any.")
    role: Role = Field(description="The role this request acts with.", examples=[Role.STAFF])
    via: CredentialKind = Field(description="How the caller authenticated.", examples=["token"])


async def get_me(db: Database, *, principal: Principal) -> Me:
    """The caller's shop and user, with the role the principal carries.

    Raises ``NotFoundError`` when the shop or user no longer exists (a token outliving
    its account).
    """

    async def work(session: AsyncSession) -> Me:
        repo = IdentityRepository(session)
        tenant = await repo.tenant_by_id(principal.tenant_id)
        user = await repo.user_by_id(principal.user_id) if principal.user_id is not None else None
        if tenant is None or (principal.user_id is not None and user is None):
            raise NotFoundError("the caller's shop or account no longer exists")
        return Me(
            tenant=TenantRead.model_validate(tenant),
            user=UserRead.model_validate(user) if user is not None else None,
            api_key_id=principal.api_key_id,
            role=principal.role,
            via=principal.via,
        )

    with tenant_scope(principal.tenant_id):
        return await db.run(work, readonly=True)
