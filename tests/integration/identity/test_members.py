"""Members: adding, listing, changing roles and removing, with the role rules and the seat quota."""

from __future__ import annotations

import uuid

import pytest

from folio.audit.api import list_events
from folio.core.db import Database
from folio.core.errors import ConflictError, NotFoundError, PermissionDeniedError, QuotaExceededError
from folio.core.ratelimit import RateLimiter
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.identity.api import (
    MemberAdd,
    MemberRead,
    MemberUpdate,
    add_member,
    list_members,
    principal_for,
    remove_member,
    unlock_member,
    update_member_role,
)
from folio.mail.api import list_outbox
from tests.integration.identity.conftest import Shop, new_shop
from tests.support.identity import unique_email
from tests.support.outbox import published

pytestmark = pytest.mark.integration


async def _add(
    db: Database, settings: Settings, by: Principal, role: Role, email: str | None = None
) -> MemberRead:
    data = MemberAdd(email=email or unique_email(role.value), display_name=f"Test {role.value}", role=role)
    return await add_member(db, settings=settings, principal=by, data=data)


def _as(shop: Shop, member: MemberRead) -> Principal:
    return Principal(tenant_id=shop.tenant_id, role=member.role, user_id=member.user_id, via="session")


async def test_a_new_member_is_invited_and_listed(
    any_database: Database, identity_settings: Settings, shop: Shop
) -> None:
    """A new address becomes a user with an invitation mail; the member is listed and the change audited."""
    member = await _add(any_database, identity_settings, shop.owner, Role.STAFF)
    [mail] = await list_outbox(any_database, recipient=member.email)
    assert mail.kind == "invitation"
    assert "/app/reset/" in mail.body
    listed = await list_members(any_database, principal=shop.owner)
    assert [(m.email, m.role) for m in listed] == [(shop.email, Role.OWNER), (member.email, Role.STAFF)]
    assert (
        await principal_for(any_database, tenant_id=shop.tenant_id, user_id=member.user_id)
    ).role is Role.STAFF
    assert (
        len(
            (
                await list_events(
                    any_database, settings=identity_settings, principal=shop.owner, action="member.added"
                )
            ).items
        )
        == 1
    )


async def test_the_shop_and_its_members_changes_are_published_without_addresses(
    any_database: Database, identity_settings: Settings, shop: Shop
) -> None:
    """ShopRegistered, then MemberAdded, MemberRoleChanged and MemberRemoved on ``identity``, schema-valid."""
    member = await _add(any_database, identity_settings, shop.owner, Role.STAFF)
    await update_member_role(
        any_database, principal=shop.owner, user_id=member.user_id, data=MemberUpdate(role=Role.ADMIN)
    )
    await remove_member(any_database, principal=shop.owner, user_id=member.user_id)

    events = await published(any_database, topic="identity", tenant_id=shop.tenant_id)

    user = str(member.user_id)
    assert events == [
        ("ShopRegistered", {"slug": shop.slug, "plan": "standard", "owner_id": str(shop.owner.user_id)}),
        ("MemberAdded", {"user_id": user, "role": "staff"}),
        ("MemberRoleChanged", {"user_id": user, "role": "admin", "previous_role": "staff"}),
        ("MemberRemoved", {"user_id": user, "role": "admin"}),
    ]


async def test_an_existing_user_just_gets_the_membership(
    any_database: Database, identity_settings: Settings, shop: Shop
) -> None:
    """The owner of another shop added here gets the membership and no mail."""
    other = await new_shop(any_database, identity_settings)
    member = await _add(any_database, identity_settings, shop.owner, Role.ADMIN, email=other.email)
    assert member.user_id == other.owner.user_id
    assert await list_outbox(any_database, recipient=other.email) == []
    assert (
        await principal_for(any_database, tenant_id=shop.tenant_id, user_id=member.user_id)
    ).role is Role.ADMIN
    assert (
        await principal_for(any_database, tenant_id=other.tenant_id, user_id=member.user_id)
    ).role is Role.OWNER


async def test_adding_a_member_twice_is_a_conflict(
    any_database: Database, identity_settings: Settings, shop: Shop
) -> None:
    """The same address cannot join twice (the owner included)."""
    with pytest.raises(ConflictError):
        await _add(any_database, identity_settings, shop.owner, Role.STAFF, email=shop.email)


async def test_seats_are_limited_by_the_members_quota(any_database: Database, settings: Settings) -> None:
    """With a quota of 2 seats, the owner and one member fit; a third is refused with the quota named."""
    quotas = settings.tenancy.quotas.model_copy(update={"members": 2})
    tuned = settings.model_copy(update={"tenancy": settings.tenancy.model_copy(update={"quotas": quotas})})
    from tests.integration.identity.conftest import fast_settings

    tuned = fast_settings(tuned)
    shop = await new_shop(any_database, tuned)
    await _add(any_database, tuned, shop.owner, Role.STAFF)
    with pytest.raises(QuotaExceededError) as caught:
        await _add(any_database, tuned, shop.owner, Role.STAFF)
    assert (caught.value.extra["meter"], caught.value.extra["limit"], caught.value.extra["in_use"]) == (
        "members",
        2,
        2,
    )


async def test_staff_and_customers_may_not_manage_members(
    any_database: Database, identity_settings: Settings, shop: Shop
) -> None:
    """Staff may list but not add; customers may not even list."""
    staff = _as(shop, await _add(any_database, identity_settings, shop.owner, Role.STAFF))
    customer = _as(shop, await _add(any_database, identity_settings, shop.owner, Role.CUSTOMER))
    assert len(await list_members(any_database, principal=staff)) == 3
    with pytest.raises(PermissionDeniedError):
        await _add(any_database, identity_settings, staff, Role.CUSTOMER)
    with pytest.raises(PermissionDeniedError):
        await list_members(any_database, principal=customer)
    with pytest.raises(PermissionDeniedError):
        await remove_member(any_database, principal=staff, user_id=customer.actor_id)


async def test_an_admin_may_not_touch_owners(
    any_database: Database, identity_settings: Settings, shop: Shop
) -> None:
    """An admin can neither grant ``owner``, nor demote or remove an owner."""
    admin = _as(shop, await _add(any_database, identity_settings, shop.owner, Role.ADMIN))
    staff = await _add(any_database, identity_settings, shop.owner, Role.STAFF)
    with pytest.raises(PermissionDeniedError):
        await update_member_role(
            any_database, principal=admin, user_id=staff.user_id, data=MemberUpdate(role=Role.OWNER)
        )
    with pytest.raises(PermissionDeniedError):
        await update_member_role(
            any_database, principal=admin, user_id=shop.owner.actor_id, data=MemberUpdate(role=Role.STAFF)
        )
    with pytest.raises(PermissionDeniedError):
        await remove_member(any_database, principal=admin, user_id=shop.owner.actor_id)
    changed = await update_member_role(
        any_database, principal=admin, user_id=staff.user_id, data=MemberUpdate(role=Role.CUSTOMER)
    )
    assert changed.role is Role.CUSTOMER


async def test_the_last_owner_stays(any_database: Database, identity_settings: Settings, shop: Shop) -> None:
    """The only owner can be neither removed nor demoted; with a second owner both work, audited."""
    with pytest.raises(ConflictError):
        await remove_member(any_database, principal=shop.owner, user_id=shop.owner.actor_id)
    with pytest.raises(ConflictError):
        await update_member_role(
            any_database,
            principal=shop.owner,
            user_id=shop.owner.actor_id,
            data=MemberUpdate(role=Role.ADMIN),
        )
    second = await _add(any_database, identity_settings, shop.owner, Role.ADMIN)
    await update_member_role(
        any_database, principal=shop.owner, user_id=second.user_id, data=MemberUpdate(role=Role.OWNER)
    )
    demoted = await update_member_role(
        any_database, principal=shop.owner, user_id=shop.owner.actor_id, data=MemberUpdate(role=Role.STAFF)
    )
    assert demoted.role is Role.STAFF
    new_owner = _as(shop, second.model_copy(update={"role": Role.OWNER}))
    await remove_member(any_database, principal=new_owner, user_id=shop.owner.actor_id)
    with pytest.raises(NotFoundError):
        await principal_for(any_database, tenant_id=shop.tenant_id, user_id=shop.owner.actor_id)
    actions = {
        event.action
        for event in (await list_events(any_database, settings=identity_settings, principal=new_owner)).items
    }
    assert {"member.role_changed", "member.removed"} <= actions


async def test_another_shops_members_are_not_found(
    any_database: Database, identity_settings: Settings, shop: Shop
) -> None:
    """A manager of shop B gets NotFoundError for shop A's member, whatever they try."""
    other = await new_shop(any_database, identity_settings)
    member = await _add(any_database, identity_settings, shop.owner, Role.STAFF)
    for attempt in (
        update_member_role(
            any_database, principal=other.owner, user_id=member.user_id, data=MemberUpdate(role=Role.ADMIN)
        ),
        remove_member(any_database, principal=other.owner, user_id=member.user_id),
        unlock_member(
            any_database,
            settings=identity_settings,
            limiter=RateLimiter("memory://"),
            principal=other.owner,
            user_id=member.user_id,
        ),
    ):
        with pytest.raises(NotFoundError):
            await attempt
    assert member.user_id not in {m.user_id for m in await list_members(any_database, principal=other.owner)}
    with pytest.raises(NotFoundError):
        await principal_for(any_database, tenant_id=other.tenant_id, user_id=member.user_id)


async def test_unknown_user_ids_are_not_found(
    any_database: Database, identity_settings: Settings, memory_limiter: RateLimiter, shop: Shop
) -> None:
    """A user id nobody has is NotFoundError."""
    with pytest.raises(NotFoundError):
        await unlock_member(
            any_database,
            settings=identity_settings,
            limiter=memory_limiter,
            principal=shop.owner,
            user_id=uuid.uuid4(),
        )
