"""Identity endpoints across shops and roles: another shop's ids are 404s, lesser roles get 403s.

Every caller kind of shop B (each member role, and an API key) aims every
id-taking identity endpoint at shop A's members and keys: managers get 404 (the id
does not exist for them), the others 403 (they may not manage at all); nobody gets
data, and shop A is unchanged afterwards.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest

from folio.core.security import MANAGER_ROLES, STAFF_ROLES, Role
from folio.core.settings import Settings
from tests.support.identity import (
    Session,
    add_member_and_login,
    api_key_headers,
    create_api_key,
    fast_argon2,
    register_and_login,
    unique_email,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def migrated_postgres(migrated_postgres: Settings) -> Settings:
    """The suite's PostgreSQL settings with cheap argon2: these tests sign up many users."""
    return fast_argon2(migrated_postgres)


@dataclass(frozen=True)
class ShopA:
    """The victim shop: an owner, a staff member, a customer and an API key."""

    owner: Session
    staff: Session
    customer: Session
    key_id: str


async def _shop_a(client: httpx.AsyncClient) -> ShopA:
    owner = await register_and_login(client)
    staff = await add_member_and_login(client, owner, Role.STAFF)
    customer = await add_member_and_login(client, owner, Role.CUSTOMER)
    issued = await create_api_key(client, owner, Role.ADMIN, name="shop A's key")
    return ShopA(owner=owner, staff=staff, customer=customer, key_id=str(issued["id"]))


def _requests(a: ShopA) -> list[tuple[str, str, dict[str, object] | None]]:
    """Every identity request that names one of shop A's member or key ids."""
    requests: list[tuple[str, str, dict[str, object] | None]] = []
    for member in (a.owner, a.staff, a.customer):
        requests += [
            ("PATCH", f"/api/v1/members/{member.user_id}", {"role": "admin"}),
            ("DELETE", f"/api/v1/members/{member.user_id}", None),
            ("POST", f"/api/v1/members/{member.user_id}/unlock", None),
        ]
    requests.append(("DELETE", f"/api/v1/api-keys/{a.key_id}", None))
    return requests


CALLERS = ["owner", "admin", "staff", "customer", "admin-key", "staff-key"]


async def _caller(client: httpx.AsyncClient, kind: str) -> tuple[dict[str, str], Role]:
    """Headers of a shop-B caller of ``kind``, and the role it acts with."""
    role = Role(kind.removesuffix("-key"))
    if kind.endswith("-key"):
        owner = await register_and_login(client)
        return await api_key_headers(client, owner, role), role
    session = await register_and_login(client, role=role)
    return session.headers, role


@pytest.mark.parametrize("kind", CALLERS)
async def test_other_shops_ids_are_not_found(api_client: httpx.AsyncClient, kind: str) -> None:
    """Shop B's managers get 404 for shop A's member and key ids; its other roles get 403; nothing leaks."""
    a = await _shop_a(api_client)
    headers, role = await _caller(api_client, kind)
    secrets = {str(a.owner.user_id), str(a.staff.user_id), a.owner.email, a.staff.email, a.key_id}

    for method, path, body in _requests(a):
        response = await api_client.request(method, path, json=body, headers=headers)
        expected = 404 if role in MANAGER_ROLES else 403
        assert response.status_code == expected, (kind, method, path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert not any(secret in response.json().get("detail", "") for secret in secrets)

    # Listings show shop B's own rows only.
    for path in ("/api/v1/members", "/api/v1/api-keys"):
        response = await api_client.get(path, headers=headers)
        if response.status_code == 200:
            assert not any(secret in response.text for secret in secrets), (kind, path)
        else:
            assert response.status_code == 403

    # Shop A is untouched: same members, same roles, its key still works.
    members = await api_client.get("/api/v1/members", headers=a.owner.headers)
    assert {(m["user_id"], m["role"]) for m in members.json()} == {
        (str(a.owner.user_id), "owner"),
        (str(a.staff.user_id), "staff"),
        (str(a.customer.user_id), "customer"),
    }
    keys = await api_client.get("/api/v1/api-keys", headers=a.owner.headers)
    assert [(k["id"], k["revoked_at"]) for k in keys.json()] == [(a.key_id, None)]


@pytest.mark.parametrize("kind", CALLERS)
async def test_me_names_the_callers_own_shop(api_client: httpx.AsyncClient, kind: str) -> None:
    """/me answers for the caller's own shop and role, whatever the credential."""
    headers, role = await _caller(api_client, kind)
    me = await api_client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["role"] == role.value


async def test_token_of_shop_b_cannot_log_into_shop_a(api_client: httpx.AsyncClient) -> None:
    """A member of shop B cannot log in to shop A with their own (correct) password."""
    a = await _shop_a(api_client)
    b = await register_and_login(api_client)
    response = await api_client.post(
        "/api/v1/auth/token", json={"shop_slug": a.owner.shop_slug, "email": b.email, "password": b.password}
    )
    assert response.status_code == 401


@pytest.mark.parametrize("role", [Role.STAFF, Role.CUSTOMER])
async def test_lesser_roles_cannot_manage_members_or_keys(api_client: httpx.AsyncClient, role: Role) -> None:
    """Staff and customers get 403 on every member and key change in their own shop."""
    owner = await register_and_login(api_client)
    caller = await add_member_and_login(api_client, owner, role)
    peer = await add_member_and_login(api_client, owner, Role.CUSTOMER)
    key_id = (await create_api_key(api_client, owner, Role.STAFF))["id"]
    attempts: list[tuple[str, str, dict[str, object] | None]] = [
        ("POST", "/api/v1/members", {"email": unique_email(), "display_name": "X", "role": "staff"}),
        ("PATCH", f"/api/v1/members/{peer.user_id}", {"role": "admin"}),
        ("PATCH", f"/api/v1/members/{caller.user_id}", {"role": "admin"}),
        ("DELETE", f"/api/v1/members/{peer.user_id}", None),
        ("POST", f"/api/v1/members/{peer.user_id}/unlock", None),
        ("GET", "/api/v1/api-keys", None),
        ("POST", "/api/v1/api-keys", {"name": "mine", "role": "admin"}),
        ("DELETE", f"/api/v1/api-keys/{key_id}", None),
    ]
    for method, path, body in attempts:
        response = await api_client.request(method, path, json=body, headers=caller.headers)
        assert response.status_code == 403, (role, method, path, response.text)
        assert response.json()["code"] == "permission-denied"

    listing = await api_client.get("/api/v1/members", headers=caller.headers)
    assert listing.status_code == (200 if role in STAFF_ROLES else 403)


async def test_admin_cannot_touch_owners(api_client: httpx.AsyncClient) -> None:
    """An admin manages members but may neither demote, remove nor create an owner."""
    owner = await register_and_login(api_client)
    admin = await add_member_and_login(api_client, owner, Role.ADMIN)
    demote = await api_client.patch(
        f"/api/v1/members/{owner.user_id}", json={"role": "staff"}, headers=admin.headers
    )
    assert demote.status_code == 403
    remove = await api_client.delete(f"/api/v1/members/{owner.user_id}", headers=admin.headers)
    assert remove.status_code == 403
    staff = await add_member_and_login(api_client, admin, Role.STAFF)
    promote = await api_client.patch(
        f"/api/v1/members/{staff.user_id}", json={"role": "owner"}, headers=admin.headers
    )
    assert promote.status_code == 403
    invite_owner = await api_client.post(
        "/api/v1/members",
        json={"email": unique_email(), "display_name": "O", "role": "owner"},
        headers=admin.headers,
    )
    assert invite_owner.status_code == 422


async def test_unknown_ids_are_not_found_for_managers(api_client: httpx.AsyncClient) -> None:
    """Ids nobody has are 404s; malformed ids are 422s."""
    owner = await register_and_login(api_client)
    nobody = uuid.uuid4()
    for method, path in [
        ("PATCH", f"/api/v1/members/{nobody}"),
        ("DELETE", f"/api/v1/members/{nobody}"),
        ("POST", f"/api/v1/members/{nobody}/unlock"),
        ("DELETE", f"/api/v1/api-keys/{nobody}"),
    ]:
        body = {"role": "staff"} if method == "PATCH" else None
        response = await api_client.request(method, path, json=body, headers=owner.headers)
        assert response.status_code == 404, (method, path)
    response = await api_client.delete("/api/v1/members/not-a-uuid", headers=owner.headers)
    assert response.status_code == 422


async def test_owner_manages_the_member_lifecycle(api_client: httpx.AsyncClient) -> None:
    """Owner adds a member (201), changes the role, unlocks, and removes them (204)."""
    owner = await register_and_login(api_client)
    staff = await add_member_and_login(api_client, owner, Role.STAFF)
    listed = (await api_client.get("/api/v1/members", headers=owner.headers)).json()
    assert {m["email"] for m in listed} == {owner.email, staff.email}
    changed = await api_client.patch(
        f"/api/v1/members/{staff.user_id}", json={"role": "customer"}, headers=owner.headers
    )
    assert changed.json()["role"] == "customer"
    unlocked = await api_client.post(f"/api/v1/members/{staff.user_id}/unlock", headers=owner.headers)
    assert unlocked.status_code == 200
    assert unlocked.json()["locked"] is False
    assert (
        await api_client.delete(f"/api/v1/members/{staff.user_id}", headers=owner.headers)
    ).status_code == 204
    last_owner = await api_client.delete(f"/api/v1/members/{owner.user_id}", headers=owner.headers)
    assert last_owner.status_code == 409
