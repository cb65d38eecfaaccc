"""GET /api/v1/usage and /api/v1/quotas through the gateway (managers only)."""

from __future__ import annotations

import httpx
import pytest

from folio.core.db import Database
from folio.core.security import Role
from folio.core.settings import Settings
from folio.usage.api import Meter, set_quota_override
from tests.support.identity import add_member_and_login, register_and_login

pytestmark = pytest.mark.integration


@pytest.fixture
def client(api_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The gateway's in-process client."""
    return api_client


async def test_quotas_show_defaults_and_overrides(
    client: httpx.AsyncClient, pg_database: Database, migrated_postgres: Settings
) -> None:
    """/quotas lists every meter; an operator's override shows as the shop's own."""
    owner = await register_and_login(client)
    await set_quota_override(pg_database, tenant_id=owner.tenant_id, meter=Meter.TASKS, limit=12)
    response = await client.get("/api/v1/quotas", headers=owner.headers)
    assert response.status_code == 200, response.text
    quotas = {q["meter"]: q for q in response.json()}
    assert set(quotas) == {m.value for m in Meter}
    assert (quotas["tasks"]["limit"], quotas["tasks"]["overridden"]) == (12, True)
    assert quotas["members"]["limit"] == migrated_postgres.tenancy.quotas.members


async def test_usage_lists_days(client: httpx.AsyncClient) -> None:
    """/usage answers a list (possibly empty) and validates days."""
    owner = await register_and_login(client)
    response = await client.get("/api/v1/usage", params={"days": 7, "meter": "tasks"}, headers=owner.headers)
    assert response.status_code == 200
    assert isinstance(response.json(), list)
    bad = await client.get("/api/v1/usage", params={"days": 0}, headers=owner.headers)
    assert bad.status_code == 422


@pytest.mark.parametrize("path", ["/api/v1/usage", "/api/v1/quotas"])
async def test_customers_are_refused(client: httpx.AsyncClient, path: str) -> None:
    """Usage and quotas are for the shop's managers."""
    owner = await register_and_login(client)
    customer = await add_member_and_login(client, owner, Role.CUSTOMER)
    response = await client.get(path, headers=customer.headers)
    assert response.status_code == 403
