"""Fixtures for identity's service-level tests: fast argon2 settings, shops with members, mail links."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from folio.core.db import Database, read_your_writes_scope
from folio.core.ratelimit import RateLimiter
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.identity.api import (
    MemberAdd,
    RegisterShop,
    Registration,
    add_member,
    register_shop,
    reset_password,
)
from folio.mail.api import list_outbox
from tests.support.identity import PASSWORD, unique_email, unique_slug

LINK = re.compile(r"/app/reset/(\S+)")


def fast_settings(settings: Settings, **identity: object) -> Settings:
    """``settings`` with the cheapest argon2 parameters allowed, plus ``identity`` overrides."""
    cheap = {"argon2_time_cost": 1, "argon2_memory_kib": 8_192, "argon2_parallelism": 1, **identity}
    return settings.model_copy(update={"identity": settings.identity.model_copy(update=cheap)})


@pytest.fixture(autouse=True)
async def read_own_writes() -> AsyncIterator[None]:
    """Each test reads what it wrote: readonly units go to the primary once one committed.

    The services' PostgreSQL has a streaming replica; without this, a read right after
    a write could go to the replica before it replayed the write.
    """
    with read_your_writes_scope():
        yield


@pytest.fixture
def identity_settings(settings: Settings) -> Settings:
    """The suite's settings with fast argon2 and a lockout threshold of 3 (base 60 s, max 3600 s)."""
    return fast_settings(settings, lockout_threshold=3, lockout_base_s=60, lockout_max_s=3_600)


@dataclass(frozen=True)
class Shop:
    """A registered shop and its owner."""

    registration: Registration
    slug: str
    email: str
    password: str
    owner: Principal

    @property
    def tenant_id(self) -> uuid.UUID:
        """The shop's id."""
        return self.registration.tenant.id


async def new_shop(db: Database, settings: Settings, *, email: str | None = None) -> Shop:
    """Register a shop with a unique slug and owner address."""
    slug, address = unique_slug(), email or unique_email("owner")
    registration = await register_shop(
        db,
        settings=settings,
        data=RegisterShop(
            shop_name=f"Shop {slug}", shop_slug=slug, email=address, display_name="Owner", password=PASSWORD
        ),
    )
    owner = Principal(
        tenant_id=registration.tenant.id, role=Role.OWNER, user_id=registration.user.id, via="session"
    )
    return Shop(registration=registration, slug=slug, email=address, password=PASSWORD, owner=owner)


async def last_link_token(db: Database, email: str) -> str:
    """The token in the newest mail to ``email`` carrying a reset link."""
    for mail in await list_outbox(db, recipient=email, limit=20):
        match = LINK.search(mail.body)
        if match:
            return match.group(1)
    raise AssertionError(f"no mail with a reset link to {email}")


@dataclass(frozen=True)
class Member:
    """A member who can log in: their principal in the shop and their address."""

    principal: Principal
    email: str


async def add_member_with_password(
    db: Database, settings: Settings, shop: Shop, role: Role, *, by: Principal | None = None
) -> Member:
    """Add a new member with ``role`` and set their password (``PASSWORD``) through the invitation link."""
    email = unique_email(role.value)
    member = await add_member(
        db,
        settings=settings,
        principal=by or shop.owner,
        data=MemberAdd(email=email, display_name=f"Test {role.value}", role=role),
    )
    token = await last_link_token(db, email)
    # A new member has no login attempts to forget: a limiter of their own will do.
    limiter = RateLimiter("memory://")
    await reset_password(db, settings=settings, limiter=limiter, token=token, new_password=PASSWORD)
    return Member(
        Principal(tenant_id=shop.tenant_id, role=role, user_id=member.user_id, via="session"), email
    )


@pytest.fixture
async def shop(any_database: Database, identity_settings: Settings) -> Shop:
    """A fresh shop (on PostgreSQL and on SQLite) with its owner."""
    return await new_shop(any_database, identity_settings)
