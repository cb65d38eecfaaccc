"""Sign up shops and log members in over the HTTP API, for any test that needs a caller.

Everything here goes through the public endpoints (``/api/v1/auth/...``,
``/api/v1/members``, ``/api/v1/api-keys``) with the client the test passes, usually
the ``api_client`` fixture (tests/integration/conftest.py), so the helpers exercise
what they set up. Each call makes fresh random slugs and emails: the database is
shared and never cleaned.

    owner = await register_and_login(api_client)
    staff = await add_member_and_login(api_client, owner, Role.STAFF)
    response = await api_client.get("/api/v1/tasks", headers=staff.headers)

A member other than the owner is made by registering a throwaway shop for a new
user (so they have a password) and adding that user, by email, to the owner's shop:
an existing user just gets the membership, with no invitation to answer.

Service-level tests that need no HTTP can use ``create_member``, which writes a shop,
a user (without a password) and a membership straight into a ``Database`` and returns
the member's ``Principal``.

Test modules that use ``api_client`` and sign up many users can make password hashing
cheap with ``fast_argon2`` (see its docstring).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import Database
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.core.tenancy import tenant_scope
from folio.identity.models import Membership, Tenant, User

__all__ = [
    "PASSWORD",
    "Session",
    "add_member_and_login",
    "api_key_headers",
    "bearer",
    "create_api_key",
    "create_member",
    "fast_argon2",
    "login",
    "register_and_login",
    "register_shop",
    "unique_email",
    "unique_slug",
]

PASSWORD = "Bookshop-Ledger-Quiet-47"
"""The password every helper-made user has (passes the default password policy)."""


def fast_argon2(settings: Settings) -> Settings:
    """``settings`` with the cheapest argon2 parameters allowed: for tests that sign up many users.

    Override the suite's ``migrated_postgres`` fixture in a test module to make its
    ``api_app`` hash fast (the defaults cost ~100 ms and 64 MiB per hash)::

        @pytest.fixture(scope="module")
        def migrated_postgres(migrated_postgres: Settings) -> Settings:
            return fast_argon2(migrated_postgres)
    """
    cheap = {"argon2_time_cost": 1, "argon2_memory_kib": 8_192, "argon2_parallelism": 1}
    return settings.model_copy(update={"identity": settings.identity.model_copy(update=cheap)})


def unique_slug(prefix: str = "shop") -> str:
    """A shop slug no other test uses (``[a-z0-9-]``)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def unique_email(prefix: str = "user") -> str:
    """An email address no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header for an access token."""
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Session:
    """A member logged in to one shop: who they are and the headers that authenticate them."""

    tenant_id: uuid.UUID
    shop_slug: str
    user_id: uuid.UUID
    email: str
    role: Role
    token: str
    """The access token."""
    refresh_token: str
    password: str = PASSWORD
    headers: dict[str, str] = field(default_factory=dict)
    """``Authorization: Bearer <token>``; pass as ``headers=session.headers``."""

    def __post_init__(self) -> None:
        if not self.headers:
            object.__setattr__(self, "headers", bearer(self.token))


def _ok(response: httpx.Response, status: int) -> dict[str, Any]:
    """The JSON body of ``response``, failing with the problem body when the status is not ``status``."""
    if response.status_code != status:
        raise AssertionError(
            f"{response.request.method} {response.request.url.path} answered {response.status_code}, "
            f"expected {status}: {response.text}"
        )
    body: dict[str, Any] = response.json()
    return body


async def register_shop(
    client: httpx.AsyncClient,
    *,
    slug: str | None = None,
    email: str | None = None,
    password: str = PASSWORD,
    display_name: str = "Test Owner",
) -> dict[str, Any]:
    """``POST /api/v1/auth/register`` a new shop and its owner; returns the ``Registration`` body."""
    slug = slug or unique_slug()
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "shop_name": f"Shop {slug}",
            "shop_slug": slug,
            "email": email or unique_email("owner"),
            "display_name": display_name,
            "password": password,
        },
    )
    return _ok(response, 201)


async def login(
    client: httpx.AsyncClient, *, shop_slug: str, email: str, password: str = PASSWORD
) -> dict[str, Any]:
    """``POST /api/v1/auth/token``; returns the ``TokenPair`` body (fails the test unless 200)."""
    response = await client.post(
        "/api/v1/auth/token", json={"shop_slug": shop_slug, "email": email, "password": password}
    )
    return _ok(response, 200)


async def _session(
    client: httpx.AsyncClient, *, tenant_id: str, shop_slug: str, user_id: str, email: str, role: Role
) -> Session:
    tokens = await login(client, shop_slug=shop_slug, email=email)
    return Session(
        tenant_id=uuid.UUID(tenant_id),
        shop_slug=shop_slug,
        user_id=uuid.UUID(user_id),
        email=email,
        role=role,
        token=str(tokens["access_token"]),
        refresh_token=str(tokens["refresh_token"]),
    )


async def _register_owner(client: httpx.AsyncClient) -> Session:
    email = unique_email("owner")
    registration = await register_shop(client, email=email)
    return await _session(
        client,
        tenant_id=registration["tenant"]["id"],
        shop_slug=registration["tenant"]["slug"],
        user_id=registration["user"]["id"],
        email=email,
        role=Role.OWNER,
    )


async def add_member_and_login(client: httpx.AsyncClient, owner: Session, role: Role | str) -> Session:
    """Add a new member with ``role`` to ``owner``'s shop and log them in there.

    ``owner`` must be allowed to add that role (an owner may add any role but owner;
    an admin any but owner). The new user also owns a throwaway shop of their own.
    """
    role = Role(role)
    email = unique_email(role.value)
    await register_shop(client, email=email, display_name=f"Test {role.value.title()}")
    response = await client.post(
        "/api/v1/members",
        json={"email": email, "display_name": f"Test {role.value.title()}", "role": role.value},
        headers=owner.headers,
    )
    member = _ok(response, 201)
    return await _session(
        client,
        tenant_id=str(owner.tenant_id),
        shop_slug=owner.shop_slug,
        user_id=str(member["user_id"]),
        email=email,
        role=role,
    )


async def register_and_login(client: httpx.AsyncClient, *, role: Role | str = Role.OWNER) -> Session:
    """A fresh shop and a member of it with ``role``, logged in.

    For ``owner`` that is the shop's registering owner; for any other role the owner
    registers the shop and adds the member (``add_member_and_login``).
    """
    owner = await _register_owner(client)
    if Role(role) is Role.OWNER:
        return owner
    return await add_member_and_login(client, owner, role)


async def create_api_key(
    client: httpx.AsyncClient, manager: Session, role: Role | str = Role.STAFF, *, name: str = "test key"
) -> dict[str, Any]:
    """``POST /api/v1/api-keys`` with ``role`` in ``manager``'s shop; returns the ``ApiKeyIssued`` body."""
    response = await client.post(
        "/api/v1/api-keys", json={"name": name, "role": Role(role).value}, headers=manager.headers
    )
    return _ok(response, 201)


async def api_key_headers(
    client: httpx.AsyncClient, manager: Session, role: Role | str = Role.STAFF, *, name: str = "test key"
) -> dict[str, str]:
    """Create an API key with ``role`` in ``manager``'s shop; returns its ``X-API-Key`` header."""
    issued = await create_api_key(client, manager, role, name=name)
    return {"X-API-Key": str(issued["key"])}


async def create_member(
    db: Database, *, role: Role | str = Role.OWNER, tenant_id: uuid.UUID | None = None
) -> Principal:
    """Write a member straight into ``db`` (no HTTP, no password) and return their principal.

    Without ``tenant_id`` a new shop is created too; with it, the member joins that
    shop (which must exist). For service-level tests; the user cannot log in.
    """
    shop = tenant_id or uuid.uuid4()
    user_id = uuid.uuid4()
    role = Role(role)

    async def work(session: AsyncSession) -> None:
        if tenant_id is None:
            slug = unique_slug()
            session.add(Tenant(id=shop, slug=slug, name=f"Shop {slug}"))
        session.add(User(id=user_id, email=unique_email(role.value), display_name=f"Test {role.value}"))
        await session.flush()
        session.add(Membership(tenant_id=shop, user_id=user_id, role=role.value))

    with tenant_scope(shop):
        await db.run(work)
    return Principal(tenant_id=shop, role=role, user_id=user_id, via="token")
