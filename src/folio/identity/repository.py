"""Identity's queries, on one session: the only module that builds SQL for identity's tables.

Shops, users and password resets are global rows. Memberships and API keys are
tenant-owned: every query on them adds ``tenant_filter`` (the only isolation SQLite
has) and must run in a transaction begun inside ``tenant_scope`` (PostgreSQL's
row-level security shows nothing otherwise).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.security import Role
from folio.core.tenancy import tenant_filter
from folio.identity.models import ApiKey, Membership, PasswordReset, Tenant, User

__all__ = ["IdentityRepository"]


class IdentityRepository:
    """Reads and writes of identity's rows within the caller's unit of work."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: Tenant | User | Membership | ApiKey | PasswordReset) -> None:
        """Stage ``row`` for insertion with the unit of work."""
        self.session.add(row)

    async def delete(self, row: Membership) -> None:
        """Stage ``row`` for deletion with the unit of work."""
        await self.session.delete(row)

    async def flush(self) -> None:
        """Send staged changes now (to surface constraint violations inside the unit)."""
        await self.session.flush()

    # --- shops and users (global) ---------------------------------------------------------------

    async def tenant_by_slug(self, slug: str) -> Tenant | None:
        """The shop called ``slug``, if any."""
        return await self.session.scalar(select(Tenant).where(Tenant.slug == slug))

    async def tenant_by_id(self, tenant_id: uuid.UUID) -> Tenant | None:
        """The shop with id ``tenant_id``, if any."""
        return await self.session.get(Tenant, tenant_id)

    async def tenants(self) -> Sequence[Tenant]:
        """Every shop, oldest first."""
        return (await self.session.scalars(select(Tenant).order_by(Tenant.created_at, Tenant.slug))).all()

    async def user_by_email(self, email: str, *, for_update: bool = False) -> User | None:
        """The user with the (normalised) address ``email``, if any."""
        query = select(User).where(User.email == email)
        return await self.session.scalar(query.with_for_update() if for_update else query)

    async def user_by_id(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None:
        """The user ``user_id``, if any; ``for_update`` locks the row until the unit ends (PostgreSQL)."""
        query = select(User).where(User.id == user_id)
        return await self.session.scalar(query.with_for_update() if for_update else query)

    # --- memberships (tenant in scope) -----------------------------------------------------------

    async def membership(self, user_id: uuid.UUID) -> Membership | None:
        """The membership of ``user_id`` in the shop in scope, if any."""
        return await self.session.scalar(
            select(Membership).where(tenant_filter(Membership), Membership.user_id == user_id)
        )

    async def member(self, user_id: uuid.UUID) -> tuple[Membership, User] | None:
        """The membership of ``user_id`` in the shop in scope, with the user, if any."""
        row = (
            await self.session.execute(
                select(Membership, User)
                .join(User, User.id == Membership.user_id)
                .where(tenant_filter(Membership), Membership.user_id == user_id)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def members(self) -> list[tuple[Membership, User]]:
        """Every member of the shop in scope, in joining order."""
        rows = await self.session.execute(
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(tenant_filter(Membership))
            .order_by(Membership.created_at, User.email)
        )
        return [(membership, user) for membership, user in rows]

    async def count_members(self, *, role: Role | None = None) -> int:
        """How many members the shop in scope has (with ``role``, when given)."""
        query = select(func.count()).select_from(Membership).where(tenant_filter(Membership))
        if role is not None:
            query = query.where(Membership.role == role.value)
        return int(await self.session.scalar(query) or 0)

    # --- API keys (tenant in scope) --------------------------------------------------------------

    async def api_key(self, key_id: uuid.UUID) -> ApiKey | None:
        """The shop's API key ``key_id``, if any."""
        return await self.session.scalar(select(ApiKey).where(tenant_filter(ApiKey), ApiKey.id == key_id))

    async def api_keys(self) -> Sequence[ApiKey]:
        """Every API key of the shop in scope, revoked ones included, newest first."""
        query = select(ApiKey).where(tenant_filter(ApiKey)).order_by(ApiKey.created_at.desc(), ApiKey.id)
        return (await self.session.scalars(query)).all()

    # --- password resets (global) ---------------------------------------------------------------

    async def password_reset(self, token_hash: str, *, for_update: bool = False) -> PasswordReset | None:
        """The reset whose token hashes to ``token_hash``, if any."""
        query = select(PasswordReset).where(PasswordReset.token_hash == token_hash)
        return await self.session.scalar(query.with_for_update() if for_update else query)

    async def open_password_resets(self, user_id: uuid.UUID) -> Sequence[PasswordReset]:
        """The user's resets not used yet (expired ones included)."""
        query = select(PasswordReset).where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
        return (await self.session.scalars(query)).all()
