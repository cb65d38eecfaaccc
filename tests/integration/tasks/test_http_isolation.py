"""J4 through the API: every tasks endpoint, v1 and v2, for every kind of caller in shop B.

Shop A has tasks; shop B has an owner, an admin, a staff member, a customer and
staff and customer API keys. For each of them and each endpoint, A's task ids are
"not found" (never 403, never A's data), A's tasks never appear in lists, and A's
members cannot be made assignees (422: not a member of the shop).
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from folio.core.security import Role
from tests.support.identity import Session, add_member_and_login, api_key_headers, register_and_login

pytestmark = pytest.mark.integration


async def _callers(client: httpx.AsyncClient, owner: Session) -> dict[str, dict[str, str]]:
    """Headers for each kind of caller in ``owner``'s shop."""
    callers = {"owner": owner.headers}
    for role in (Role.ADMIN, Role.STAFF, Role.CUSTOMER):
        callers[role.value] = (await add_member_and_login(client, owner, role)).headers
    callers["staff api key"] = await api_key_headers(client, owner, Role.STAFF)
    callers["customer api key"] = await api_key_headers(client, owner, Role.CUSTOMER)
    return callers


async def test_shop_b_never_reaches_shop_a_tasks(api_client: httpx.AsyncClient) -> None:
    """Every endpoint x every caller of shop B: A's tasks are 404, never listed; A's members unassignable."""
    shop_a = await register_and_login(api_client)
    a_tasks = []
    for title in ("A secret", "A other"):
        response = await api_client.post("/api/v1/tasks", json={"title": title}, headers=shop_a.headers)
        assert response.status_code == 201
        a_tasks.append(response.json())
    a_ids = {task["id"] for task in a_tasks}
    shop_b = await register_and_login(api_client)
    callers = await _callers(api_client, shop_b)

    failures: list[str] = []

    def expect(who: str, what: str, response: httpx.Response, status: int) -> None:
        if response.status_code != status or "A secret" in response.text or "A other" in response.text:
            failures.append(f"{who}: {what} -> {response.status_code} {response.text[:200]}")

    for who, headers in callers.items():
        own = await api_client.post("/api/v1/tasks", json={"title": f"B {who}"}, headers=headers)
        expect(who, "create own", own, 201)
        for version in ("v1", "v2"):
            listed = await api_client.get(f"/api/{version}/tasks", params={"q": "A"}, headers=headers)
            expect(who, f"{version} list", listed, 200)
            everything = await api_client.get(f"/api/{version}/tasks", headers=headers)
            items = everything.json()["items" if version == "v1" else "data"]
            if a_ids & {task["id"] for task in items}:
                failures.append(f"{who}: {version} list shows shop A's tasks")
            for task_id in a_ids:
                path = f"/api/{version}/tasks/{task_id}"
                expect(who, f"{version} get", await api_client.get(path, headers=headers), 404)
                patch = await api_client.patch(path, json={"title": "mine now"}, headers=headers)
                expect(who, f"{version} patch", patch, 404)
                expect(who, f"{version} delete", await api_client.delete(path, headers=headers), 404)
            foreign = await api_client.post(
                f"/api/{version}/tasks",
                json={"title": "assign A", "assignee_id": str(shop_a.user_id)},
                headers=headers,
            )
            # Staff learn only "not a member" (422); customers may not assign others at all (403).
            expect(who, f"{version} create with A's assignee", foreign, 403 if "customer" in who else 422)

    assert not failures, "\n".join(failures)
    for task in a_tasks:
        still = await api_client.get(f"/api/v1/tasks/{task['id']}", headers=shop_a.headers)
        assert still.json() == task


async def test_unknown_and_foreign_ids_look_the_same(api_client: httpx.AsyncClient) -> None:
    """A foreign task id and an id that never existed give the same problem (nothing to probe)."""
    shop_a = await register_and_login(api_client)
    shop_b = await register_and_login(api_client)
    task = (await api_client.post("/api/v1/tasks", json={"title": "A"}, headers=shop_a.headers)).json()
    foreign = await api_client.get(f"/api/v1/tasks/{task['id']}", headers=shop_b.headers)
    missing = await api_client.get(f"/api/v1/tasks/{uuid.uuid4()}", headers=shop_b.headers)
    assert foreign.status_code == missing.status_code == 404
    strip = {"detail", "instance", "correlation_id"}
    assert {k: v for k, v in foreign.json().items() if k not in strip} == {
        k: v for k, v in missing.json().items() if k not in strip
    }
