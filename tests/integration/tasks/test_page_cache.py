"""The task-list page cache on the real path: hits skip the database, writes are read at once.

Over the gateway with its real platform (PostgreSQL, Redis L2 and broadcast). A row
changed behind the service's back (SQL as the owner role) shows the difference
between a hit and a miss: a hit still answers the old page, the next write through
the API makes every list fresh again.
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
from folio.core.db import Database
from folio.core.ratelimit import RateLimiter
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.tasks.api import (
    TASK_PAGES,
    TASK_UNIT_OF_WORK,
    TaskCreate,
    TaskPages,
    TaskUpdate,
    create_task,
    update_task,
)
from tests.support.identity import Session, add_member_and_login, register_and_login

pytestmark = pytest.mark.integration


@pytest.fixture
async def owner(api_client: httpx.AsyncClient) -> Session:
    """The owner of a fresh shop, logged in."""
    return await register_and_login(api_client)


async def _titles(client: httpx.AsyncClient, session: Session, version: str = "v1") -> list[str]:
    answer = await client.get(f"/api/{version}/tasks", headers=session.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return sorted(task["title"] for task in body["items" if version == "v1" else "data"])


async def _retitle_behind_the_service(settings: Settings, shop: Session, task_id: str, title: str) -> None:
    """Change a row in plain SQL, bypassing the service (and so the cache's invalidation)."""
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.begin() as connection:
            # Row-level security binds every role: the row is found only in its shop's scope.
            await connection.execute(
                text("SELECT set_config('app.tenant_id', :shop, true)"), {"shop": str(shop.tenant_id)}
            )
            changed = await connection.execute(
                text("UPDATE tasks SET title = :title WHERE id = :id"),
                {"title": title, "id": uuid.UUID(task_id)},
            )
            assert changed.rowcount == 1
    finally:
        await engine.dispose()


async def test_a_repeated_list_is_a_hit_and_a_write_through_the_api_is_read_at_once(
    api_client: httpx.AsyncClient, owner: Session, migrated_postgres: Settings
) -> None:
    """The second list is served from the cache; the API's own write makes the next list fresh."""
    created = await api_client.post("/api/v1/tasks", json={"title": "first"}, headers=owner.headers)
    task_id = created.json()["id"]
    first = await api_client.get("/api/v1/tasks", headers=owner.headers)
    assert [task["title"] for task in first.json()["items"]] == ["first"]

    await _retitle_behind_the_service(migrated_postgres, owner, task_id, "changed behind")
    again = await api_client.get("/api/v1/tasks", headers=owner.headers)
    assert again.content == first.content  # a hit: byte for byte the page built before

    await api_client.post("/api/v1/tasks", json={"title": "second"}, headers=owner.headers)
    assert await _titles(api_client, owner) == ["changed behind", "second"]
    assert await _titles(api_client, owner, "v2") == ["changed behind", "second"]


async def test_each_caller_gets_the_page_of_their_own_view(
    api_client: httpx.AsyncClient, owner: Session
) -> None:
    """A page cached for staff is never served to a customer, nor one customer's to another."""
    customer = await add_member_and_login(api_client, owner, Role.CUSTOMER)
    other = await add_member_and_login(api_client, owner, Role.CUSTOMER)
    await api_client.post("/api/v1/tasks", json={"title": "staff only"}, headers=owner.headers)
    await api_client.post("/api/v1/tasks", json={"title": "mine"}, headers=customer.headers)
    assert await _titles(api_client, owner) == ["mine", "staff only"]
    assert await _titles(api_client, customer) == ["mine"]
    assert await _titles(api_client, other) == []
    assert await _titles(api_client, owner) == ["mine", "staff only"]


async def test_a_shops_write_leaves_other_shops_pages_cached(
    api_client: httpx.AsyncClient, owner: Session, migrated_postgres: Settings
) -> None:
    """Invalidation is per shop: another shop's write does not drop this shop's pages."""
    neighbour = await register_and_login(api_client)
    created = await api_client.post("/api/v1/tasks", json={"title": "kept"}, headers=owner.headers)
    assert await _titles(api_client, owner) == ["kept"]
    await _retitle_behind_the_service(migrated_postgres, owner, created.json()["id"], "unseen")
    await api_client.post("/api/v1/tasks", json={"title": "next door"}, headers=neighbour.headers)
    assert await _titles(api_client, owner) == ["kept"]


async def test_a_write_in_another_process_reaches_this_ones_pages(
    api_client: httpx.AsyncClient,
    owner: Session,
    migrated_postgres: Settings,
    pg_database: Database,
    redis_limiter: RateLimiter,
) -> None:
    """A second platform (another process's caches on the same Redis) writes; this gateway's list follows."""
    assert await _titles(api_client, owner) == []
    other = build_platform(migrated_postgres, database=pg_database, rate_limiter=redis_limiter)
    try:
        assert other.get(TASK_PAGES) is not None
        principal = Principal(tenant_id=owner.tenant_id, role=Role.OWNER, user_id=owner.user_id, via="token")
        task = await create_task(
            other.get(TASK_UNIT_OF_WORK), principal=principal, data=TaskCreate(title="from elsewhere")
        )
        await update_task(
            other.get(TASK_UNIT_OF_WORK),
            principal=principal,
            task_id=task.id,
            data=TaskUpdate(title="from elsewhere, edited"),
        )
    finally:
        await other.aclose()
    for _ in range(50):  # the invalidation crosses over Redis pub/sub: milliseconds
        if await _titles(api_client, owner) == ["from elsewhere, edited"]:
            return
        await asyncio.sleep(0.02)
    pytest.fail(
        f"the other process's write never reached this one's pages: {await _titles(api_client, owner)}"
    )


def test_page_keys_differ_by_version_query_and_position() -> None:
    """Keys lead with the shop and change with any part of what the page answers."""
    shop = uuid.uuid4()
    keys = {
        TaskPages.key(shop, "v1", "query-a", 1, None),
        TaskPages.key(shop, "v1", "query-a", 2, None),
        TaskPages.key(shop, "v1", "query-b", 1, None),
        TaskPages.key(shop, "v2", "query-a", 1, None),
        TaskPages.key(uuid.uuid4(), "v1", "query-a", 1, None),
    }
    assert len(keys) == 5
    assert TaskPages.key(shop, "v1", "query-a", 1, None).startswith(shop.hex + ":")


async def _cache_reads(client: httpx.AsyncClient, layer: str) -> tuple[float, float]:
    """(hits, misses) of the pages cache's ``layer`` on the gateway's ``/metrics``."""
    from prometheus_client.parser import text_string_to_metric_families

    totals = {"folio_cache_hits": 0.0, "folio_cache_misses": 0.0}
    exposition = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            wanted = sample.labels.get("cache") == "tasks.pages" and sample.labels.get("layer") == layer
            if wanted and sample.name.removesuffix("_total") in totals:
                totals[sample.name.removesuffix("_total")] += sample.value
    return totals["folio_cache_hits"], totals["folio_cache_misses"]


async def test_the_gateway_exports_the_page_cache_s_hits_and_misses(
    api_client: httpx.AsyncClient, owner: Session
) -> None:
    """/metrics carries the cache's per-layer counters: a first list misses L1, a second hits it."""
    hits, misses = await _cache_reads(api_client, "l1")
    await _titles(api_client, owner)
    after_miss = await _cache_reads(api_client, "l1")
    assert after_miss == (hits, misses + 1)
    await _titles(api_client, owner)
    assert await _cache_reads(api_client, "l1") == (hits + 1, misses + 1)
