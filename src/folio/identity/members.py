"""Members: who belongs to a shop and with which role.

Role rules (``MANAGER_ROLES`` are owner and admin):

- Staff roles (owner, admin, staff) may list the shop's members; customers may not.
- Managers add members, change roles, remove members and unlock accounts.
- Only an owner grants ``owner``, changes an owner's role or removes an owner; an admin
  touching an owner gets ``PermissionDeniedError``.
- A shop always keeps at least one owner: the last one can be neither demoted nor removed.
- A user id that is not a member of the caller's shop is ``NotFoundError``, whoever asks.

Adding an address nobody uses creates a user without a password and mails them an
invitation to set one; an existing user just gets the membership (plus the invitation
when they never set a password). Each seat counts against the ``members`` quota.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.api import record_change_event
from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.errors import ConflictError, InvalidParam, NotFoundError, PermissionDeniedError
from folio.core.ratelimit import RateLimiter
from folio.core.security import MANAGER_ROLES, STAFF_ROLES, Principal, Role, require_role
from folio.core.settings import Settings
from folio.core.tenancy import tenant_scope
from folio.identity.events import MEMBER_ADDED, MEMBER_REMOVED, MEMBER_ROLE_CHANGED, publish_member_event
from folio.identity.lockout import clear_lockout, is_locked
from folio.identity.models import Membership, User
from folio.identity.notifications import queue_invitation_mail
from folio.identity.repository import IdentityRepository
from folio.identity.resets import INVITATION_TTL_S, issue_reset_token
from folio.identity.schemas import MemberAdd, MemberRead, MemberUpdate
from folio.identity.throttle import clear_account_throttle
from folio.usage.api import Meter, enforce_quota, lock_quota

__all__ = ["add_member", "list_members", "remove_member", "unlock_member", "update_member_role"]

ENTITY = "member"
"""The entity type of a membership's audit events (the id is the member's user id)."""


def member_read(membership: Membership, user: User, now: dt.datetime) -> MemberRead:
    """The DTO for ``user``'s ``membership``, locked as of ``now``."""
    return MemberRead(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=Role(membership.role),
        created_at=membership.created_at,
        locked=is_locked(user, now),
    )


async def _member_or_404(repo: IdentityRepository, user_id: uuid.UUID) -> tuple[Membership, User]:
    found = await repo.member(user_id)
    if found is None:
        raise NotFoundError("no such member in this shop")
    return found


def _check_owner_rules(principal: Principal, membership: Membership, *, new_role: Role | None) -> None:
    """Owners are changed or removed, and ``owner`` granted, only by an owner."""
    touches_owner = membership.role == Role.OWNER.value or new_role == Role.OWNER
    if touches_owner and principal.role != Role.OWNER:
        raise PermissionDeniedError("only an owner may grant the owner role or change or remove an owner")


async def _keep_an_owner(repo: IdentityRepository, membership: Membership) -> None:
    if membership.role == Role.OWNER.value and await repo.count_members(role=Role.OWNER) <= 1:
        raise ConflictError("a shop needs an owner: make someone else owner first")


async def list_members(db: Database, *, principal: Principal) -> list[MemberRead]:
    """Every member of the principal's shop, in joining order (staff roles only)."""
    require_role(principal, STAFF_ROLES, action="list the shop's members")

    async def work(session: AsyncSession) -> list[MemberRead]:
        now = utcnow()
        return [member_read(m, u, now) for m, u in await IdentityRepository(session).members()]

    with tenant_scope(principal.tenant_id):
        return await db.run(work, readonly=True)


async def _user_for(repo: IdentityRepository, data: MemberAdd, now: dt.datetime) -> User:
    user = await repo.user_by_email(data.email)
    if user is None:
        user = User(
            email=data.email,
            display_name=data.display_name,
            password_hash=None,
            failed_login_count=0,
            lockout_count=0,
            created_at=now,
        )
        repo.add(user)
        await repo.flush()
    elif await repo.membership(user.id) is not None:
        raise ConflictError(
            "this person is already a member of the shop",
            errors=[InvalidParam(name="body.email", reason="Already a member of this shop.")],
        )
    return user


async def add_member(
    db: Database, *, settings: Settings, principal: Principal, data: MemberAdd
) -> MemberRead:
    """Add ``data.email`` to the principal's shop with ``data.role``; managers only, audited ``member.added``.

    Raises:
        PermissionDeniedError: the principal is not a manager.
        ConflictError: the address is already a member (``errors`` names ``body.email``).
        QuotaExceededError: the shop has no free seat (``members`` quota).
    """
    require_role(principal, MANAGER_ROLES, action="add members")

    async def work(session: AsyncSession) -> MemberRead:
        repo = IdentityRepository(session)
        now = utcnow()
        await lock_quota(session, tenant_id=principal.tenant_id, meter=Meter.MEMBERS)
        in_use = await repo.count_members()
        user = await _user_for(repo, data, now)
        await enforce_quota(
            session, settings=settings, tenant_id=principal.tenant_id, meter=Meter.MEMBERS, in_use=in_use
        )
        membership = Membership(
            tenant_id=principal.tenant_id, user_id=user.id, role=data.role.value, created_at=now
        )
        repo.add(membership)
        if user.password_hash is None:
            tenant = await repo.tenant_by_id(principal.tenant_id)
            token = issue_reset_token(repo, user_id=user.id, ttl_s=INVITATION_TTL_S, now=now)
            await queue_invitation_mail(
                session,
                settings=settings,
                email=user.email,
                shop_name=tenant.name if tenant is not None else "a shop",
                token=token,
                ttl_s=INVITATION_TTL_S,
            )
        await record_change_event(
            session,
            principal,
            action="member.added",
            entity_type=ENTITY,
            entity_id=user.id,
            after={"email": user.email, "role": data.role},
        )
        await publish_member_event(
            session, MEMBER_ADDED, tenant_id=principal.tenant_id, user_id=user.id, role=data.role.value
        )
        return member_read(membership, user, now)

    with tenant_scope(principal.tenant_id):
        return await db.run(work)


async def update_member_role(
    db: Database, *, principal: Principal, user_id: uuid.UUID, data: MemberUpdate
) -> MemberRead:
    """Give member ``user_id`` the role ``data.role`` (owner rules above); audited ``member.role_changed``.

    Raises:
        NotFoundError: ``user_id`` is not a member of the principal's shop.
        PermissionDeniedError: not a manager, or an admin touching the owner role.
        ConflictError: it would leave the shop without an owner.
    """
    require_role(principal, MANAGER_ROLES, action="change members' roles")

    async def work(session: AsyncSession) -> MemberRead:
        repo = IdentityRepository(session)
        membership, user = await _member_or_404(repo, user_id)
        _check_owner_rules(principal, membership, new_role=data.role)
        if membership.role != data.role.value:
            if data.role != Role.OWNER:
                await _keep_an_owner(repo, membership)
            before = {"role": membership.role}
            membership.role = data.role.value
            await record_change_event(
                session,
                principal,
                action="member.role_changed",
                entity_type=ENTITY,
                entity_id=user_id,
                before=before,
                after={"role": data.role},
            )
            await publish_member_event(
                session,
                MEMBER_ROLE_CHANGED,
                tenant_id=principal.tenant_id,
                user_id=user_id,
                role=data.role.value,
                previous_role=before["role"],
            )
        return member_read(membership, user, utcnow())

    with tenant_scope(principal.tenant_id):
        return await db.run(work)


async def remove_member(db: Database, *, principal: Principal, user_id: uuid.UUID) -> None:
    """Remove member ``user_id`` from the principal's shop (owner rules above); audited ``member.removed``.

    The user keeps their account (and other shops); only this membership goes.

    Raises:
        NotFoundError: ``user_id`` is not a member of the principal's shop.
        PermissionDeniedError: not a manager, or an admin removing an owner.
        ConflictError: ``user_id`` is the shop's last owner.
    """
    require_role(principal, MANAGER_ROLES, action="remove members")

    async def work(session: AsyncSession) -> None:
        repo = IdentityRepository(session)
        membership, user = await _member_or_404(repo, user_id)
        _check_owner_rules(principal, membership, new_role=None)
        await _keep_an_owner(repo, membership)
        await repo.delete(membership)
        await record_change_event(
            session,
            principal,
            action="member.removed",
            entity_type=ENTITY,
            entity_id=user_id,
            before={"email": user.email, "role": membership.role},
        )
        await publish_member_event(
            session, MEMBER_REMOVED, tenant_id=principal.tenant_id, user_id=user_id, role=membership.role
        )

    with tenant_scope(principal.tenant_id):
        await db.run(work)


async def unlock_member(
    db: Database, *, settings: Settings, limiter: RateLimiter, principal: Principal, user_id: uuid.UUID
) -> MemberRead:
    """Lift member ``user_id``'s lockout and reset their failure counters; audited ``member.unlocked``.

    Their login-throttling window in ``limiter`` is emptied too (not the per-IP ones), so
    "they can log in again" holds at once.

    Raises:
        NotFoundError: ``user_id`` is not a member of the principal's shop.
        PermissionDeniedError: the principal is not a manager.
    """
    require_role(principal, MANAGER_ROLES, action="unlock members")

    async def work(session: AsyncSession) -> MemberRead:
        repo = IdentityRepository(session)
        membership, _ = await _member_or_404(repo, user_id)
        user = await repo.user_by_id(user_id, for_update=True)
        if user is None:  # pragma: no cover - the membership cascades away with its user
            raise NotFoundError("no such member in this shop")
        before = {
            "locked_until": user.locked_until,
            "failed_login_count": user.failed_login_count,
            "lockout_count": user.lockout_count,
        }
        clear_lockout(user)
        await record_change_event(
            session, principal, action="member.unlocked", entity_type=ENTITY, entity_id=user_id, before=before
        )
        return member_read(membership, user, utcnow())

    with tenant_scope(principal.tenant_id):
        member = await db.run(work)
    await clear_account_throttle(limiter, settings, email=member.email)
    return member
