"""The tasks API over HTTP (v1 and v2) through the gateway: statuses, headers, problems, versions."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from folio.core.db import Database
from folio.core.security import Role
from folio.usage.api import Meter, set_quota_override
from tests.support.identity import Session, add_member_and_login, register_and_login

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


@pytest.fixture
async def owner(api_client: httpx.AsyncClient) -> Session:
    """The owner of a fresh shop, logged in."""
    return await register_and_login(api_client)


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], version: str = "v1", **body: Any
) -> dict[str, Any]:
    """POST a task (title defaults to a unique one); fails unless 201."""
    response = await client.post(
        f"/api/{version}/tasks", json={"title": f"task {uuid.uuid4().hex[:6]}", **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is a problem+json of ``status`` and ``code``; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


async def test_v1_life_of_a_task(api_client: httpx.AsyncClient, owner: Session) -> None:
    """Create (201, Location, ETag), read, change with If-Match, refuse a stale one, delete, 404."""
    response = await api_client.post(
        "/api/v1/tasks",
        json={"title": "Reorder", "notes": "winter", "tags": ["Orders"]},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    task = response.json()
    assert (task["notes"], task["tags"], task["version"]) == ("winter", ["orders"], 1)
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"].endswith(f"/api/v1/tasks/{task['id']}")

    read = await api_client.get(f"/api/v1/tasks/{task['id']}", headers=owner.headers)
    assert read.json() == task
    assert read.headers["etag"] == '"1"'

    changed = await api_client.patch(
        f"/api/v1/tasks/{task['id']}", json={"status": "done"}, headers={**owner.headers, "If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["status"], changed.headers["etag"]) == ("done", '"2"')

    stale = await api_client.patch(
        f"/api/v1/tasks/{task['id']}",
        json={"title": "lost update"},
        headers={**owner.headers, "If-Match": '"1"'},
    )
    assert assert_problem(stale, 409, "conflict")["current_version"] == 2
    stale_body = await api_client.patch(
        f"/api/v1/tasks/{task['id']}", json={"title": "lost update", "version": 1}, headers=owner.headers
    )
    assert_problem(stale_body, 409, "conflict")

    deleted = await api_client.delete(f"/api/v1/tasks/{task['id']}", headers=owner.headers)
    assert deleted.status_code == 204
    assert_problem(
        await api_client.get(f"/api/v1/tasks/{task['id']}", headers=owner.headers), 404, "not-found"
    )


async def test_v2_calls_notes_description(api_client: httpx.AsyncClient, owner: Session) -> None:
    """v2 reads and writes ``description``; v1 sees the same text as ``notes``; v2 refuses ``notes``."""
    created = await create(api_client, owner.headers, "v2", description="from v2")
    assert created["description"] == "from v2"
    assert "notes" not in created
    v1 = (await api_client.get(f"/api/v1/tasks/{created['id']}", headers=owner.headers)).json()
    assert v1["notes"] == "from v2"
    assert "description" not in v1
    patched = await api_client.patch(
        f"/api/v2/tasks/{created['id']}", json={"description": "edited"}, headers=owner.headers
    )
    assert patched.json()["description"] == "edited"
    assert patched.headers["etag"] == '"2"'
    refused = await api_client.post(
        "/api/v2/tasks", json={"title": "x", "notes": "v1 name"}, headers=owner.headers
    )
    assert_problem(refused, 422, "validation-failed")
    got = await api_client.get(f"/api/v2/tasks/{created['id']}", headers=owner.headers)
    assert got.json()["description"] == "edited"


async def test_v2_cursor_pages(api_client: httpx.AsyncClient, owner: Session) -> None:
    """v2 lists walk with next_cursor until has_more is false; an edited cursor is 400 invalid-cursor."""
    made = [(await create(api_client, owner.headers))["id"] for _ in range(5)]
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 2, "sort": "title"}
    pages = 0
    while True:
        page = (await api_client.get("/api/v2/tasks", params=params, headers=owner.headers)).json()
        pages += 1
        seen.extend(task["id"] for task in page["data"])
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        params["cursor"] = page["next_cursor"]
    assert pages == 3
    assert sorted(seen) == sorted(made)
    tampered: dict[str, str | int] = {"limit": 2, "sort": "title", "cursor": "x" + str(params["cursor"])}
    body = assert_problem(
        await api_client.get("/api/v2/tasks", params=tampered, headers=owner.headers), 400, "invalid-cursor"
    )
    assert body["type"].endswith("/invalid-cursor")
    other_sort: dict[str, str | int] = {"limit": 2, "sort": "-title", "cursor": params["cursor"]}
    assert_problem(
        await api_client.get("/api/v2/tasks", params=other_sort, headers=owner.headers), 400, "invalid-cursor"
    )


async def test_v1_pages_and_filters(api_client: httpx.AsyncClient, owner: Session) -> None:
    """v1 pages report totals; an out-of-range page is empty; filters narrow the list."""
    await create(api_client, owner.headers, tags=["orders"], priority="urgent")
    await create(api_client, owner.headers, notes="Moomin winter", assignee_id=str(owner.user_id))
    await create(api_client, owner.headers, status="done", due_date="2026-12-01")
    page = (await api_client.get("/api/v1/tasks", params={"per_page": 2}, headers=owner.headers)).json()
    assert (len(page["items"]), page["total"], page["pages"], page["page"]) == (2, 3, 2, 1)
    beyond = (await api_client.get("/api/v1/tasks", params={"page": 9}, headers=owner.headers)).json()
    assert (beyond["items"], beyond["total"]) == ([], 3)
    for params, count in (
        ({"tag": "ORDERS"}, 1),
        ({"priority": "urgent"}, 1),
        ({"q": "moomin"}, 1),
        ({"assignee_id": "me"}, 1),
        ({"status": "done", "due_before": "2026-12-01"}, 1),
        ({"due_after": "2026-12-02"}, 0),
    ):
        found = (await api_client.get("/api/v1/tasks", params=params, headers=owner.headers)).json()
        assert found["total"] == count, params


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "names"),
    [
        ("post", "/api/v1/tasks", {"json": {"title": ""}}, {"body.title"}),
        ("post", "/api/v1/tasks", {"json": {"title": "ok", "status": "finished"}}, {"body.status"}),
        ("post", "/api/v1/tasks", {"json": {"title": "ok", "tags": ["t"] * 21}}, {"body.tags"}),
        ("post", "/api/v1/tasks", {"json": {"title": "ok", "colour": "red"}}, {"body.colour"}),
        ("post", "/api/v2/tasks", {"json": {"description": "no title"}}, {"body.title"}),
        ("get", "/api/v1/tasks", {"params": {"per_page": 0}}, {"query.per_page"}),
        ("get", "/api/v1/tasks", {"params": {"per_page": 101}}, {"query.per_page"}),
        ("get", "/api/v1/tasks", {"params": {"page": 0}}, {"query.page"}),
        ("get", "/api/v1/tasks", {"params": {"sort": "colour"}}, {"query.sort"}),
        ("get", "/api/v1/tasks", {"params": {"status": "lost"}}, {"query.status"}),
        ("get", "/api/v1/tasks", {"params": {"due_before": "soon"}}, {"query.due_before"}),
        ("get", "/api/v2/tasks", {"params": {"limit": 5000}}, {"query.limit"}),
        ("get", "/api/v1/tasks/not-a-uuid", {}, {"path.task_id"}),
        # PostgreSQL stores no NUL character: refused up front, never a 500 from the driver.
        ("get", "/api/v1/tasks", {"params": {"tag": "a\x00b", "q": "\x00"}}, {"query.tag", "query.q"}),
        (
            "post",
            "/api/v2/tasks",
            {"json": {"title": "a\x00", "tags": ["\x00"]}},
            {"body.title", "body.tags.0"},
        ),
    ],
)
async def test_validation_problems(
    *,
    api_client: httpx.AsyncClient,
    owner: Session,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    names: set[str],
) -> None:
    """Bad bodies and parameters are 422 problems naming each invalid input."""
    response = await api_client.request(method, path, headers=owner.headers, **kwargs)
    body = assert_problem(response, 422, "validation-failed")
    assert {error["name"] for error in body["errors"]} >= names


async def test_patch_problems(api_client: httpx.AsyncClient, owner: Session) -> None:
    """A null for a required field and a malformed If-Match are 422 problems."""
    task = await create(api_client, owner.headers)
    nulled = await api_client.patch(
        f"/api/v1/tasks/{task['id']}", json={"title": None}, headers=owner.headers
    )
    assert_problem(nulled, 422, "validation-failed")
    bad_etag = await api_client.patch(
        f"/api/v1/tasks/{task['id']}", json={"title": "x"}, headers={**owner.headers, "If-Match": "W/1"}
    )
    errors = assert_problem(bad_etag, 422, "validation-failed")["errors"]
    assert errors
    assert all(error["name"].startswith("header.If-Match") for error in errors)
    bare = await api_client.patch(
        f"/api/v1/tasks/{task['id']}", json={"title": "y"}, headers={**owner.headers, "If-Match": "1"}
    )
    assert bare.headers["etag"] == '"2"'
    anything = await api_client.patch(
        f"/api/v1/tasks/{task['id']}", json={"title": "x"}, headers={**owner.headers, "If-Match": "*"}
    )
    assert anything.status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/tasks"),
        ("post", "/api/v1/tasks"),
        ("get", "/api/v2/tasks/00000000-0000-0000-0000-000000000001"),
        ("patch", "/api/v2/tasks/00000000-0000-0000-0000-000000000001"),
        ("delete", "/api/v1/tasks/00000000-0000-0000-0000-000000000001"),
    ],
)
async def test_no_credentials_is_401(api_client: httpx.AsyncClient, method: str, path: str) -> None:
    """Without a token or key every tasks endpoint answers 401 with WWW-Authenticate."""
    response = await api_client.request(
        method, path, json={"title": "x"} if method in {"post", "patch"} else None
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].lower().startswith("bearer")


async def test_quota_exceeded_is_403(
    api_client: httpx.AsyncClient, owner: Session, pg_database: Database
) -> None:
    """Past the shop's task quota, creating answers 403 quota-exceeded naming the meter."""
    await set_quota_override(pg_database, tenant_id=owner.tenant_id, meter=Meter.TASKS, limit=1)
    await create(api_client, owner.headers)
    response = await api_client.post("/api/v1/tasks", json={"title": "one too many"}, headers=owner.headers)
    body = assert_problem(response, 403, "quota-exceeded")
    assert (body["meter"], body["limit"], body["in_use"]) == ("tasks", 1, 1)


async def test_customer_inside_a_shop(api_client: httpx.AsyncClient, owner: Session) -> None:
    """A customer lists and opens only their own tasks, cannot delete, cannot assign staff."""
    customer = await add_member_and_login(api_client, owner, Role.CUSTOMER)
    staff_task = await create(api_client, owner.headers, title="staff only")
    for_customer = await create(api_client, owner.headers, assignee_id=str(customer.user_id))
    own = await create(api_client, customer.headers, "v2")
    for version in ("v1", "v2"):
        listed = (await api_client.get(f"/api/{version}/tasks", headers=customer.headers)).json()
        items = listed["items"] if version == "v1" else listed["data"]
        assert {task["id"] for task in items} == {for_customer["id"], own["id"]}
        assert_problem(
            await api_client.get(f"/api/{version}/tasks/{staff_task['id']}", headers=customer.headers),
            404,
            "not-found",
        )
    assert_problem(
        await api_client.delete(f"/api/v1/tasks/{own['id']}", headers=customer.headers),
        403,
        "permission-denied",
    )
    assign_owner = await api_client.patch(
        f"/api/v1/tasks/{own['id']}", json={"assignee_id": str(owner.user_id)}, headers=customer.headers
    )
    assert_problem(assign_owner, 403, "permission-denied")
    done = await api_client.patch(
        f"/api/v1/tasks/{for_customer['id']}", json={"status": "done"}, headers=customer.headers
    )
    assert done.json()["status"] == "done"


async def test_openapi_documents_both_versions(api_client: httpx.AsyncClient) -> None:
    """The schema has v1 and v2 task operations with summaries, examples and problem responses."""
    schema = (await api_client.get("/openapi.json")).json()
    v1_list = schema["paths"]["/api/v1/tasks"]["get"]
    v2_list = schema["paths"]["/api/v2/tasks"]["get"]
    assert v1_list["tags"] == ["tasks v1"]
    assert v2_list["tags"] == ["tasks v2"]
    assert {"page", "per_page", "status", "tag", "q"} <= {p["name"] for p in v1_list["parameters"]}
    assert {"cursor", "limit"} <= {p["name"] for p in v2_list["parameters"]}
    assert "400" in v2_list["responses"]
    patch = schema["paths"]["/api/v1/tasks/{task_id}"]["patch"]
    assert {"401", "403", "404", "409", "422", "429"} <= set(patch["responses"])
    assert "ETag" in patch["responses"]["200"]["headers"]
    create_body = schema["paths"]["/api/v1/tasks"]["post"]["requestBody"]["content"]["application/json"]
    assert set(create_body["examples"]) == {"minimal", "full"}
    assert "description" in schema["components"]["schemas"]["TaskReadV2"]["properties"]
    assert "notes" in schema["components"]["schemas"]["TaskRead"]["properties"]
