"""``/api/v1/catalog`` and ``/api/v2/catalog/listings`` over HTTP: roles, ETags, cross-shop 404s, previews."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from folio.catalog.api import generate_previews, import_works
from folio.catalog.importer import map_public_domain_text
from folio.core.db import Database
from folio.core.objectstore import S3ObjectStore
from folio.core.security import Role
from folio.core.settings import Settings
from tests.integration.catalog.conftest import generated_isbn
from tests.support.identity import add_member_and_login, register_and_login

pytestmark = pytest.mark.integration


async def test_works_over_http(api_client: httpx.AsyncClient) -> None:
    """Staff create, customers read, owners patch with If-Match; an ISBN twice is a 409 naming the work."""
    owner = await register_and_login(api_client)
    staff = await add_member_and_login(api_client, owner, Role.STAFF)
    customer = await add_member_and_login(api_client, owner, Role.CUSTOMER)
    isbn = generated_isbn()

    created = await api_client.post(
        "/api/v1/catalog/works",
        json={"isbn": isbn, "title": "HTTP Work", "year": 2001},
        headers=staff.headers,
    )
    assert created.status_code == 201, created.text
    work = created.json()
    assert (work["isbn13"], work["has_preview"], created.headers["ETag"]) == (isbn, False, '"1"')
    assert created.headers["Location"].endswith(f"/api/v1/catalog/works/{work['id']}")

    again = await api_client.post(
        "/api/v1/catalog/works", json={"isbn": isbn, "title": "x"}, headers=owner.headers
    )
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert (again.json()["code"], again.json()["existing_id"]) == ("conflict", work["id"])

    refused = await api_client.post("/api/v1/catalog/works", json={"title": "x"}, headers=customer.headers)
    assert refused.status_code == 403
    bad = await api_client.post(
        "/api/v1/catalog/works", json={"title": "x", "isbn": "0195153449"}, headers=owner.headers
    )
    assert bad.status_code == 422

    staff_patch = await api_client.patch(
        f"/api/v1/catalog/works/{work['id']}", json={"title": "Nope"}, headers=staff.headers
    )
    assert staff_patch.status_code == 403
    patched = await api_client.patch(
        f"/api/v1/catalog/works/{work['id']}",
        json={"year": 2002},
        headers={**owner.headers, "If-Match": '"1"'},
    )
    assert (patched.status_code, patched.json()["year"], patched.headers["ETag"]) == (200, 2002, '"2"')
    stale = await api_client.patch(
        f"/api/v1/catalog/works/{work['id']}",
        json={"year": 2003},
        headers={**owner.headers, "If-Match": '"1"'},
    )
    assert stale.status_code == 409
    no_delete = await api_client.delete(f"/api/v1/catalog/works/{work['id']}", headers=owner.headers)
    assert no_delete.status_code == 405

    listed = await api_client.get("/api/v1/catalog/works", params={"isbn": isbn}, headers=customer.headers)
    assert [item["id"] for item in listed.json()["items"]] == [work["id"]]


async def test_listings_over_http(api_client: httpx.AsyncClient) -> None:
    """Staff list a work, customers read, strangers get 404; v2 pages by cursor; every write is audited."""
    owner = await register_and_login(api_client)
    staff = await add_member_and_login(api_client, owner, Role.STAFF)
    customer = await add_member_and_login(api_client, owner, Role.CUSTOMER)
    stranger = await register_and_login(api_client)
    work = (
        await api_client.post("/api/v1/catalog/works", json={"title": "Listed"}, headers=staff.headers)
    ).json()
    listing = await api_client.post(
        "/api/v1/catalog/listings",
        json={
            "work_id": work["id"],
            "price_cents": 1500,
            "currency": "usd",
            "stock": 1,
            "condition": "very_good",
        },
        headers=staff.headers,
    )
    assert listing.status_code == 201, listing.text
    listing_id = listing.json()["id"]
    assert listing.json()["currency"] == "USD"
    duplicate = await api_client.post(
        "/api/v1/catalog/listings",
        json={"work_id": work["id"], "price_cents": 1, "currency": "USD", "condition": "very_good"},
        headers=owner.headers,
    )
    assert duplicate.status_code == 409
    assert (
        await api_client.get(f"/api/v1/catalog/listings/{listing_id}", headers=customer.headers)
    ).status_code == 200
    assert (
        await api_client.get(f"/api/v1/catalog/listings/{listing_id}", headers=stranger.headers)
    ).status_code == 404
    assert (
        await api_client.patch(
            f"/api/v1/catalog/listings/{listing_id}", json={"stock": 0}, headers=stranger.headers
        )
    ).status_code == 404
    assert (
        await api_client.patch(
            f"/api/v1/catalog/listings/{listing_id}", json={"stock": 0}, headers=customer.headers
        )
    ).status_code == 403
    changed = await api_client.patch(
        f"/api/v1/catalog/listings/{listing_id}",
        json={"stock": 3},
        headers={**staff.headers, "If-Match": '"1"'},
    )
    assert (changed.status_code, changed.json()["stock"]) == (200, 3)

    v1 = await api_client.get("/api/v1/catalog/listings", headers=customer.headers)
    assert [item["id"] for item in v1.json()["items"]] == [listing_id]
    assert (await api_client.get("/api/v1/catalog/listings", headers=stranger.headers)).json()["total"] == 0
    v2 = await api_client.get("/api/v2/catalog/listings", params={"limit": 1}, headers=customer.headers)
    assert (v2.json()["has_more"], [item["id"] for item in v2.json()["data"]]) == (False, [listing_id])
    forged = await api_client.get(
        "/api/v2/catalog/listings", params={"cursor": "abc.def"}, headers=owner.headers
    )
    assert (forged.status_code, forged.json()["code"]) == (400, "invalid-cursor")

    assert (
        await api_client.delete(f"/api/v1/catalog/listings/{listing_id}", headers=customer.headers)
    ).status_code == 403
    assert (
        await api_client.delete(f"/api/v1/catalog/listings/{listing_id}", headers=staff.headers)
    ).status_code == 204
    assert (
        await api_client.get(f"/api/v1/catalog/listings/{listing_id}", headers=staff.headers)
    ).status_code == 404

    audit = await api_client.get(
        "/api/v1/audit-events", params={"entity_type": "listing"}, headers=owner.headers
    )
    assert audit.status_code == 200, audit.text
    actions = [event["action"] for event in audit.json()["items"]]
    assert actions[:3] == ["listing.deleted", "listing.updated", "listing.created"]


@dataclass(frozen=True)
class GeneratedText:
    """A generated public-domain-like text."""

    key: str
    title: str
    author: str | None
    year: int | None
    text: str


async def test_preview_is_streamed_from_the_object_store(
    api_client: httpx.AsyncClient,
    pg_database: Database,
    migrated_postgres: Settings,
    require_service: Callable[[str], None],
) -> None:
    """A generated text's preview PDF is stored in S3 and served as application/pdf; no preview is 404."""
    require_service("object_store")
    source = f"test-{uuid.uuid4().hex[:12]}"
    text = GeneratedText("generated-1", "A Generated Tale", "Nobody", 1850, "Once upon a time. " * 400)
    await import_works(pg_database, source=source, items=[map_public_domain_text(1, text)])
    store = S3ObjectStore(migrated_postgres.services.object_store)
    report = await generate_previews(pg_database, store, source=source, texts=[text])
    assert (report.generated, report.missing_work) == (1, 0)
    again = await generate_previews(pg_database, store, source=source, texts=[text])
    assert (again.generated, again.unchanged) == (0, 1)

    owner = await register_and_login(api_client)
    found = await api_client.get(
        "/api/v1/catalog/works", params={"q": "A Generated Tale"}, headers=owner.headers
    )
    work = next(item for item in found.json()["items"] if item["source"] == source)
    assert work["has_preview"] is True
    preview = await api_client.get(f"/api/v1/catalog/works/{work['id']}/preview", headers=owner.headers)
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "application/pdf"
    assert preview.content.startswith(b"%PDF-")
    assert int(preview.headers["content-length"]) == len(preview.content)

    plain = await api_client.post(
        "/api/v1/catalog/works", json={"title": "No Preview"}, headers=owner.headers
    )
    missing = await api_client.get(
        f"/api/v1/catalog/works/{plain.json()['id']}/preview", headers=owner.headers
    )
    assert (missing.status_code, missing.json()["code"]) == (404, "not-found")


async def test_control_characters_are_refused_naming_the_field(api_client: httpx.AsyncClient) -> None:
    """A title with an ANSI escape, or a filter with SOH, is a 422 naming the field; nothing is stored."""
    owner = await register_and_login(api_client)
    marker = f"Generated {uuid.uuid4().hex[:8]}"
    refused = await api_client.post(
        "/api/v1/catalog/works",
        json={"title": f"{marker} \x1b[31mred", "authors": ["ok", "bad\x01"]},
        headers=owner.headers,
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["code"] == "validation-failed"
    assert {error["name"] for error in problem["errors"]} == {"body.title", "body.authors.1"}
    assert "U+001B" in next(e["reason"] for e in problem["errors"] if e["name"] == "body.title")

    query = await api_client.get("/api/v1/catalog/works", params={"q": "a\x01"}, headers=owner.headers)
    assert (query.status_code, [error["name"] for error in query.json()["errors"]]) == (422, ["query.q"])
    stored = await api_client.get("/api/v1/catalog/works", params={"q": marker}, headers=owner.headers)
    assert stored.json()["total"] == 0
