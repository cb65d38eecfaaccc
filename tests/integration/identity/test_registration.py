"""Registering shops, and looking shops, users and roles up, on PostgreSQL and SQLite."""

from __future__ import annotations

import uuid

import pytest

from folio.audit.api import list_events
from folio.core.db import Database
from folio.core.errors import ConflictError, NotFoundError, ValidationFailedError
from folio.core.security import Role
from folio.core.settings import Settings
from folio.identity.api import (
    RegisterShop,
    get_tenant_by_slug,
    get_user,
    list_tenants,
    principal_for,
    register_shop,
)
from tests.integration.identity.conftest import Shop, new_shop
from tests.support.identity import PASSWORD, unique_email, unique_slug

pytestmark = pytest.mark.integration


def _registration(slug: str, email: str, password: str = PASSWORD) -> RegisterShop:
    return RegisterShop(
        shop_name="Lighthouse Books", shop_slug=slug, email=email, display_name="Ada", password=password
    )


async def test_register_creates_shop_owner_and_membership(any_database: Database, shop: Shop) -> None:
    """Registration makes the shop, its owner (normalised address) and an owner membership."""
    assert shop.registration.tenant.slug == shop.slug
    assert shop.registration.user.email == shop.email
    principal = await principal_for(any_database, tenant_id=shop.tenant_id, user_id=shop.owner.actor_id)
    assert principal.role is Role.OWNER
    assert (await get_tenant_by_slug(any_database, shop.slug)).id == shop.tenant_id
    assert (await get_user(any_database, shop.owner.actor_id)).email == shop.email
    assert shop.tenant_id in {tenant.id for tenant in await list_tenants(any_database)}


async def test_register_is_audited(any_database: Database, shop: Shop, settings: Settings) -> None:
    """The registration leaves a ``tenant.registered`` event in the new shop's trail."""
    page = await list_events(
        any_database, settings=settings, principal=shop.owner, action="tenant.registered"
    )
    assert [event.entity_id for event in page.items] == [str(shop.tenant_id)]


async def test_register_normalises_email_and_slug(
    any_database: Database, identity_settings: Settings
) -> None:
    """Addresses are stored stripped and lowercased; slugs lowercased."""
    slug, email = unique_slug(), unique_email()
    data = _registration(f"  {slug.upper()} ", f"  {email.upper()}  ")
    registration = await register_shop(any_database, settings=identity_settings, data=data)
    assert registration.tenant.slug == slug
    assert registration.user.email == email


async def test_duplicate_slug_is_a_conflict_naming_the_slug(
    any_database: Database, identity_settings: Settings, shop: Shop
) -> None:
    """A taken slug is refused with a conflict naming ``body.shop_slug``."""
    with pytest.raises(ConflictError) as caught:
        await register_shop(
            any_database, settings=identity_settings, data=_registration(shop.slug, unique_email())
        )
    assert [param.name for param in caught.value.extra["errors"]] == ["body.shop_slug"]


async def test_duplicate_email_is_a_conflict_naming_the_email(
    any_database: Database, identity_settings: Settings, shop: Shop
) -> None:
    """A taken address (in any case) is refused with a conflict naming ``body.email``."""
    data = _registration(unique_slug(), shop.email.upper())
    with pytest.raises(ConflictError) as caught:
        await register_shop(any_database, settings=identity_settings, data=data)
    assert [param.name for param in caught.value.extra["errors"]] == ["body.email"]


async def test_both_duplicates_are_reported_together(
    any_database: Database, identity_settings: Settings, shop: Shop
) -> None:
    """When slug and address are both taken, both are named."""
    with pytest.raises(ConflictError) as caught:
        await register_shop(
            any_database, settings=identity_settings, data=_registration(shop.slug, shop.email)
        )
    assert sorted(param.name for param in caught.value.extra["errors"]) == ["body.email", "body.shop_slug"]


async def test_weak_password_lists_every_broken_rule(
    any_database: Database, identity_settings: Settings
) -> None:
    """A weak password gets one ``body.password`` entry per rule it breaks; nothing is created."""
    slug, email = unique_slug(), unique_email("ada")
    with pytest.raises(ValidationFailedError) as caught:
        await register_shop(
            any_database, settings=identity_settings, data=_registration(slug, email, "aaaaaaa")
        )
    errors = caught.value.extra["errors"]
    assert {param.name for param in errors} == {"body.password"}
    reasons = " ".join(param.reason for param in errors)
    assert "at least 12 characters" in reasons
    assert "mostly one repeated character" in reasons
    assert "mix at least 3" in reasons
    with pytest.raises(NotFoundError):
        await get_tenant_by_slug(any_database, slug)


async def test_unknown_lookups_are_not_found(any_database: Database, identity_settings: Settings) -> None:
    """Unknown slugs, users and memberships are ``NotFoundError``."""
    shop = await new_shop(any_database, identity_settings)
    with pytest.raises(NotFoundError):
        await get_tenant_by_slug(any_database, unique_slug())
    with pytest.raises(NotFoundError):
        await get_user(any_database, uuid.uuid4())
    with pytest.raises(NotFoundError):
        await principal_for(any_database, tenant_id=uuid.uuid4(), user_id=shop.owner.actor_id)
