"""The catalogue's read cache on the real path: works and listings by id over the gateway.

PostgreSQL, Redis (L2 and broadcast) and the platform's own wiring. A row changed in
plain SQL, behind the service, tells a hit from a miss: a hit still answers the old
value. A write through the API (or the service, from another "process": a second
platform on the same servers) makes the next read fresh.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from folio.bootstrap import build_platform
from folio.catalog.api import CATALOG_READS, WorkUpdate, update_work
from folio.core.ratelimit import RateLimiter
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from tests.integration.catalog.conftest import generated_isbn
from tests.support.identity import Session, add_member_and_login, register_and_login

pytestmark = pytest.mark.integration


async def _behind_the_service(settings: Settings, sql: str, params: dict[str, Any], *, shop: Session) -> None:
    """Run one UPDATE in plain SQL as the app role, in ``shop``'s scope (it must change one row)."""
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("SELECT set_config('app.tenant_id', :shop, true)"), {"shop": str(shop.tenant_id)}
            )
            changed = await connection.execute(text(sql), params)
            assert changed.rowcount == 1
    finally:
        await engine.dispose()


async def _work(client: httpx.AsyncClient, staff: Session, title: str) -> dict[str, Any]:
    created = await client.post(
        "/api/v1/catalog/works", json={"isbn": generated_isbn(), "title": title}, headers=staff.headers
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


async def _get(client: httpx.AsyncClient, path: str, session: Session) -> httpx.Response:
    return await client.get(f"/api/v1/catalog/{path}", headers=session.headers)


async def test_a_work_is_served_from_the_cache_until_the_api_changes_it(
    api_client: httpx.AsyncClient, migrated_postgres: Settings
) -> None:
    """A repeated read is a hit (SQL behind the service unseen), a PATCH is read at once, privacy holds."""
    owner = await register_and_login(api_client)
    stranger = await register_and_login(api_client)
    work = await _work(api_client, owner, "Cached Title")
    assert (await _get(api_client, f"works/{work['id']}", owner)).json()["title"] == "Cached Title"

    await _behind_the_service(
        migrated_postgres,
        "UPDATE works SET title = 'Changed Behind' WHERE id = :id",
        {"id": uuid.UUID(work["id"])},
        shop=owner,
    )
    hit = await _get(api_client, f"works/{work['id']}", owner)
    assert (hit.status_code, hit.json()["title"]) == (200, "Cached Title")
    # The work is private to its shop: cached or not, another shop gets 404.
    assert (await _get(api_client, f"works/{work['id']}", stranger)).status_code == 404

    patched = await api_client.patch(
        f"/api/v1/catalog/works/{work['id']}",
        json={"title": "Patched"},
        headers={**owner.headers, "If-Match": hit.headers["ETag"]},
    )
    assert patched.status_code == 200, patched.text
    fresh = await _get(api_client, f"works/{work['id']}", owner)
    assert (fresh.json()["title"], fresh.headers["ETag"]) == ("Patched", patched.headers["ETag"])


async def test_a_listing_is_cached_per_shop_and_follows_its_work(
    api_client: httpx.AsyncClient, migrated_postgres: Settings
) -> None:
    """A listing hit ignores SQL behind the service; its PATCH and its work's change are read at once."""
    owner = await register_and_login(api_client)
    customer = await add_member_and_login(api_client, owner, Role.CUSTOMER)
    stranger = await register_and_login(api_client)
    work = await _work(api_client, owner, "Listed Work")
    created = await api_client.post(
        "/api/v1/catalog/listings",
        json={"work_id": work["id"], "price_cents": 1200, "currency": "EUR", "condition": "good"},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    listing_id = created.json()["id"]
    assert (await _get(api_client, f"listings/{listing_id}", customer)).json()["price_cents"] == 1200

    await _behind_the_service(
        migrated_postgres,
        "UPDATE listings SET price_cents = 1 WHERE id = :id",
        {"id": uuid.UUID(listing_id)},
        shop=owner,
    )
    hit = await _get(api_client, f"listings/{listing_id}", customer)
    assert hit.json()["price_cents"] == 1200
    assert (await _get(api_client, f"listings/{listing_id}", stranger)).status_code == 404

    changed = await api_client.patch(
        f"/api/v1/catalog/listings/{listing_id}",
        json={"price_cents": 1500},
        headers={**owner.headers, "If-Match": hit.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    assert (await _get(api_client, f"listings/{listing_id}", customer)).json()["price_cents"] == 1500

    retitled = await api_client.patch(
        f"/api/v1/catalog/works/{work['id']}", json={"title": "Retitled Work"}, headers=owner.headers
    )
    assert retitled.status_code == 200, retitled.text
    listing = (await _get(api_client, f"listings/{listing_id}", customer)).json()
    assert (listing["title"], listing["price_cents"]) == ("Retitled Work", 1500)


async def test_a_write_in_another_process_reaches_this_ones_cache(
    api_client: httpx.AsyncClient,
    migrated_postgres: Settings,
    redis_limiter: RateLimiter,
) -> None:
    """A second platform (another process: its own caches and listener) writes; this one reads it at once."""
    owner = await register_and_login(api_client)
    work = await _work(api_client, owner, "Before")
    assert (await _get(api_client, f"works/{work['id']}", owner)).json()["title"] == "Before"

    # Its own Database too: the write's commit listener is the other platform's, so only
    # Redis (the L2 drop and the broadcast to this process's L1) can tell this one.
    other = build_platform(migrated_postgres, rate_limiter=redis_limiter)
    try:
        principal = Principal(tenant_id=owner.tenant_id, role=Role.OWNER, user_id=owner.user_id, via="token")
        await update_work(
            other.database, principal=principal, work_id=uuid.UUID(work["id"]), data=WorkUpdate(title="After")
        )
        assert other.find(CATALOG_READS) is not None
    finally:
        await other.aclose()
    for _ in range(50):  # the broadcast crosses Redis pub/sub: milliseconds
        if (await _get(api_client, f"works/{work['id']}", owner)).json()["title"] == "After":
            return
        await asyncio.sleep(0.02)
    pytest.fail("the other process's write never reached this one's cache")
