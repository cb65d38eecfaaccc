"""The owner's secret-key routes under /api/v1 (Folio's problem+json surface, not Stripe's)."""

from __future__ import annotations

import httpx
import pytest

from folio.core.security import Role
from folio.core.settings import Settings
from tests.support.identity import add_member_and_login, fast_argon2, register_and_login

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def migrated_postgres(migrated_postgres: Settings) -> Settings:
    """Cheap password hashing: the test signs up two members."""
    return fast_argon2(migrated_postgres)


async def test_only_the_owner_issues_and_revokes_keys(api_client: httpx.AsyncClient) -> None:
    """The owner gets an sk_test_ key once; staff are refused; a list shows only its hint; revoking sticks."""
    owner = await register_and_login(api_client)
    staff = await add_member_and_login(api_client, owner, Role.STAFF)

    refused = await api_client.post("/api/v1/payments/keys", json={"name": "till"}, headers=staff.headers)
    issued = await api_client.post("/api/v1/payments/keys", json={"name": "web shop"}, headers=owner.headers)

    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert issued.status_code == 201
    key = issued.json()
    assert key["key"].startswith("sk_test_")
    listed = (await api_client.get("/api/v1/payments/keys", headers=owner.headers)).json()
    assert [(k["id"], k["name"], k["hint"]) for k in listed] == [(key["id"], "web shop", key["key"][-4:])]
    assert "key" not in listed[0]
    revoked = await api_client.delete(f"/api/v1/payments/keys/{key['id']}", headers=owner.headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
