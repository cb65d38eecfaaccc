"""J3 over real HTTP: a shop runs its day through /api/v1 and /api/v2 against a running gateway."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.support.identity import PASSWORD

pytestmark = pytest.mark.e2e


def test_staff_run_their_day_through_the_api(gateway_url: str) -> None:
    """Log in, create/filter/edit/complete/delete (v1), page (v2); 401 without a token, 429 at 101."""
    with httpx.Client(base_url=gateway_url, timeout=10) as http:
        calls = 0

        def api(method: str, path: str, **kwargs: Any) -> httpx.Response:
            nonlocal calls
            calls += 1
            kwargs.setdefault("headers", headers)
            return http.request(method, path, **kwargs)

        assert http.get("/api/v1/tasks").status_code == 401
        slug = f"kallio-{uuid.uuid4().hex[:10]}"
        email = f"owner-{uuid.uuid4().hex[:10]}@example.com"
        registered = http.post(
            "/api/v1/auth/register",
            json={
                "shop_name": "Kallio Books",
                "shop_slug": slug,
                "email": email,
                "display_name": "Kaisa",
                "password": PASSWORD,
            },
        )
        assert registered.status_code == 201, registered.text
        tokens = http.post(
            "/api/v1/auth/token", json={"shop_slug": slug, "email": email, "password": PASSWORD}
        )
        assert tokens.status_code == 200, tokens.text
        headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}

        made = {}
        for title, extra in (
            ("Reorder Moomin paperbacks", {"priority": "high", "tags": ["Orders"]}),
            ("Window display", {"due_date": "2026-12-01", "tags": ["shop"]}),
            ("Count the till", {"notes": "every evening"}),
        ):
            response = api("POST", "/api/v1/tasks", json={"title": title, **extra})
            assert response.status_code == 201, response.text
            made[title] = response.json()

        tagged = api("GET", "/api/v1/tasks", params={"tag": "orders"}).json()
        assert [task["title"] for task in tagged["items"]] == ["Reorder Moomin paperbacks"]
        searched = api("GET", "/api/v1/tasks", params={"q": "TILL"}).json()
        assert searched["total"] == 1

        window = made["Window display"]
        edited = api(
            "PATCH",
            f"/api/v1/tasks/{window['id']}",
            json={"title": "Christmas window display"},
            headers={**headers, "If-Match": '"1"'},
        )
        assert edited.status_code == 200, edited.text
        assert edited.headers["etag"] == '"2"'
        done = api("PATCH", f"/api/v1/tasks/{window['id']}", json={"status": "done", "version": 2})
        assert done.json()["status"] == "done"
        assert api("GET", "/api/v1/tasks", params={"status": "done"}).json()["total"] == 1

        till = made["Count the till"]
        assert api("DELETE", f"/api/v1/tasks/{till['id']}").status_code == 204
        assert api("GET", f"/api/v1/tasks/{till['id']}").status_code == 404

        seen, cursor = [], None
        while True:
            params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
            page = api("GET", "/api/v2/tasks", params=params).json()
            seen.extend(page["data"])
            if not page["has_more"]:
                break
            cursor = page["next_cursor"]
        assert [task["title"] for task in seen] == ["Christmas window display", "Reorder Moomin paperbacks"]
        assert "description" in seen[0]
        assert "notes" not in seen[0]

        while calls < 100:
            assert api("GET", "/api/v1/tasks", params={"per_page": 1}).status_code == 200
        refused = api("GET", "/api/v1/tasks")
        assert refused.status_code == 429, f"request {calls}: {refused.status_code}"
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["code"] == "rate-limited"
