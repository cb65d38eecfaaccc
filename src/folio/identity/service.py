"""Shops and users: registering a shop with its owner, and looking shops, users and roles up.

The other use cases live in modules named after them, all re-exported by ``api``:
``login`` (passwords, throttling, lockout), ``resets`` (password-reset tokens),
``members`` (who belongs to a shop, with which role) and ``api_keys``.
"""

from __future__ import annotations

import asyncio
import uuid

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.api import record_event
from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.errors import ConflictError, InvalidParam, NotFoundError
from folio.core.security import CredentialKind, Principal, Role
from folio.core.settings import Settings
from folio.core.tenancy import tenant_scope
from folio.identity.events import publish_shop_registered
from folio.identity.models import Membership, Tenant, User
from folio.identity.passwords import ensure_password_acceptable, hash_password
from folio.identity.repository import IdentityRepository
from folio.identity.schemas import RegisterShop, Registration, TenantRead, UserRead, normalise_email

__all__ = [
    "get_tenant_by_slug",
    "get_user",
    "is_platform_operator",
    "list_tenants",
    "principal_for",
    "register_shop",
]

log = structlog.get_logger(__name__)


def _duplicate(fields: list[str]) -> ConflictError:
    reasons = {
        "shop_slug": "A shop with this slug already exists.",
        "email": "An account with this e-mail exists.",
    }
    return ConflictError(
        f"already taken: {', '.join(fields)}",
        errors=[InvalidParam(name=f"body.{field}", reason=reasons[field]) for field in fields],
    )


async def _ensure_unique(repo: IdentityRepository, data: RegisterShop) -> None:
    taken = []
    if await repo.tenant_by_slug(data.shop_slug) is not None:
        taken.append("shop_slug")
    if await repo.user_by_email(data.email) is not None:
        taken.append("email")
    if taken:
        raise _duplicate(taken)


async def register_shop(db: Database, *, settings: Settings, data: RegisterShop) -> Registration:
    """Create a shop, its owner and the owner's membership in one unit of work, audited ``tenant.registered``.

    Raises:
        ValidationFailedError: the password breaks the policy (every reason listed).
        ConflictError: the slug or the e-mail address is taken (``errors`` names which).
    """
    ensure_password_acceptable(data.password, email=data.email, settings=settings.identity)
    password_hash = await asyncio.to_thread(hash_password, data.password, settings=settings.identity)
    # The id comes first: the owner's membership and the audit event are rows of the new
    # shop, which PostgreSQL accepts only inside its scope.
    tenant_id, user_id = uuid.uuid4(), uuid.uuid4()

    async def work(session: AsyncSession) -> Registration:
        repo = IdentityRepository(session)
        await _ensure_unique(repo, data)
        now = utcnow()
        tenant = Tenant(
            id=tenant_id, slug=data.shop_slug, name=data.shop_name, plan="standard", created_at=now
        )
        user = User(
            id=user_id,
            email=data.email,
            display_name=data.display_name,
            password_hash=password_hash,
            failed_login_count=0,
            lockout_count=0,
            created_at=now,
        )
        repo.add(tenant)
        repo.add(user)
        try:
            await repo.flush()  # a concurrent registration may have taken the slug or address since
        except IntegrityError as exc:
            raise _duplicate(["shop_slug" if "slug" in str(exc.orig) else "email"]) from exc
        repo.add(Membership(tenant_id=tenant_id, user_id=user_id, role=Role.OWNER.value, created_at=now))
        await record_event(
            session,
            tenant_id=tenant_id,
            actor_kind="user",
            actor_id=user_id,
            action="tenant.registered",
            entity_type="tenant",
            entity_id=str(tenant_id),
            after={"slug": tenant.slug, "name": tenant.name, "plan": tenant.plan, "owner_id": user_id},
        )
        await publish_shop_registered(
            session, tenant_id=tenant_id, slug=tenant.slug, plan=tenant.plan, owner_id=user_id
        )
        return Registration(tenant=TenantRead.model_validate(tenant), user=UserRead.model_validate(user))

    with tenant_scope(tenant_id):
        registration = await db.run(work)
    log.info("tenant.registered", tenant_id=str(tenant_id), slug=data.shop_slug)
    return registration


async def get_tenant_by_slug(db: Database, slug: str) -> TenantRead:
    """The shop called ``slug``; ``NotFoundError`` when there is none."""

    async def work(session: AsyncSession) -> TenantRead:
        tenant = await IdentityRepository(session).tenant_by_slug(slug.strip().lower())
        if tenant is None:
            raise NotFoundError(f"no shop called {slug!r}")
        return TenantRead.model_validate(tenant)

    return await db.run(work, readonly=True)


async def list_tenants(db: Database) -> list[TenantRead]:
    """Every shop, oldest first (for operators and the CLI; no principal: not an API call)."""

    async def work(session: AsyncSession) -> list[TenantRead]:
        return [TenantRead.model_validate(tenant) for tenant in await IdentityRepository(session).tenants()]

    return await db.run(work, readonly=True)


async def get_user(db: Database, user_id: uuid.UUID) -> UserRead:
    """The user ``user_id``; ``NotFoundError`` when there is none."""

    async def work(session: AsyncSession) -> UserRead:
        user = await IdentityRepository(session).user_by_id(user_id)
        if user is None:
            raise NotFoundError("no such user")
        return UserRead.model_validate(user)

    return await db.run(work, readonly=True)


async def is_platform_operator(db: Database, *, settings: Settings, user_id: uuid.UUID) -> bool:
    """Whether ``user_id``'s account e-mail is one of ``security.platform_operators`` (any case).

    Operators see the whole installation (the ops and trace pages) from any shop they
    are signed in to. Read on the primary, like ``principal_for``: an access decision
    must not rest on a lagging replica. While the list is empty nothing is read.
    """
    operators = {normalise_email(address) for address in settings.security.platform_operators}
    if not operators:
        return False

    async def work(session: AsyncSession) -> bool:
        user = await IdentityRepository(session).user_by_id(user_id)
        return user is not None and normalise_email(user.email) in operators

    return await db.run(work)


async def principal_for(
    db: Database, *, tenant_id: uuid.UUID, user_id: uuid.UUID, via: CredentialKind = "session"
) -> Principal:
    """The principal ``user_id`` is in shop ``tenant_id`` now, with their current role.

    Sessions and refresh tokens call this to re-check a role that may have changed
    since they were issued. Raises ``NotFoundError`` when the user is no longer a member.
    """

    async def work(session: AsyncSession) -> Principal:
        membership = await IdentityRepository(session).membership(user_id)
        if membership is None:
            raise NotFoundError("the user is not a member of this shop")
        return Principal(tenant_id=tenant_id, role=Role(membership.role), user_id=user_id, via=via)

    # The primary, never the replica: an access decision must not rest on a role or
    # membership that replication has not caught up with (a removed member stays out).
    with tenant_scope(tenant_id):
        return await db.run(work)
