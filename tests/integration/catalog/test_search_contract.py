"""The functions the search context follows the catalogue with: outbox claims and bulk reads."""

from __future__ import annotations

import uuid

import pytest

from folio.catalog.api import (
    ListingCreate,
    WorkCreate,
    claim_changes,
    create_listing,
    create_work,
    get_listings_for_search,
    get_works,
    iter_listings,
    iter_works,
    list_tenants_with_listings,
    mark_change_failed,
    mark_changes_synced,
    pending_change_count,
)
from folio.core.db import Database
from folio.core.outbox import RetryPolicy
from folio.core.settings import Settings
from tests.support.identity import create_member

pytestmark = pytest.mark.integration

CONSUMER = "search"
"""A consumer of the catalog topic from the start: migration 0011 subscribes it."""
RETRY = RetryPolicy(max_attempts=5, first_backoff_s=0.0)
MAX_ATTEMPTS = RETRY.max_attempts


async def test_claim_mark_synced_and_failed(sqlite_database: Database, settings: Settings) -> None:
    """Pending changes are claimed oldest first; synced ones leave; failing ones count attempts, then stop."""
    db = sqlite_database  # a fresh database: the outbox holds only this test's rows
    owner = await create_member(db)
    first = await create_work(db, principal=owner, data=WorkCreate(title="One"))
    second = await create_work(db, principal=owner, data=WorkCreate(title="Two"))
    listing = await create_listing(
        db,
        settings=settings,
        principal=owner,
        data=ListingCreate(work_id=first.id, price_cents=5, currency="EUR"),
    )
    claimed = await claim_changes(db, consumer=CONSUMER, limit=10)
    assert [(c.entity, c.entity_id, c.tenant_id) for c in claimed] == [
        ("work", first.id, None),
        ("work", second.id, None),
        ("listing", listing.id, owner.tenant_id),
    ]
    assert await pending_change_count(db, consumer=CONSUMER) == 3
    await mark_changes_synced(db, [claimed[0].id, claimed[2].id], consumer=CONSUMER)
    assert [c.id for c in await claim_changes(db, consumer=CONSUMER, limit=10)] == [claimed[1].id]
    for attempt in range(1, MAX_ATTEMPTS + 1):
        await mark_change_failed(db, claimed[1].id, f"index down ({attempt})", consumer=CONSUMER, retry=RETRY)
        left = await claim_changes(db, consumer=CONSUMER, limit=10)
        if attempt < MAX_ATTEMPTS:
            assert [(c.id, c.attempts) for c in left] == [(claimed[1].id, attempt)]
    assert await claim_changes(db, consumer=CONSUMER, limit=10) == []
    assert await pending_change_count(db, consumer=CONSUMER) == 0


async def test_bulk_reads_for_the_index(any_database: Database, settings: Settings) -> None:
    """Works and listings read back by id and in keyset batches; listings only within their shop."""
    owner = await create_member(any_database)
    other = await create_member(any_database)
    works = [
        await create_work(any_database, principal=owner, data=WorkCreate(title=f"Bulk {i}")) for i in range(3)
    ]
    listings = [
        await create_listing(
            any_database,
            settings=settings,
            principal=owner,
            data=ListingCreate(work_id=work.id, price_cents=100, currency="EUR"),
        )
        for work in works
    ]
    assert {w.id for w in await get_works(any_database, [works[0].id, uuid.uuid4()])} == {works[0].id}

    seen_works: list[uuid.UUID] = []
    async for batch in iter_works(any_database, batch_size=2):
        assert len(batch) <= 2
        seen_works.extend(work.id for work in batch)
    assert seen_works == sorted(seen_works)
    assert {w.id for w in works} <= set(seen_works)

    found = await get_listings_for_search(any_database, tenant_id=owner.tenant_id, ids=[listings[1].id])
    assert [(item.listing.id, item.work.title) for item in found] == [(listings[1].id, "Bulk 1")]
    assert await get_listings_for_search(any_database, tenant_id=other.tenant_id, ids=[listings[1].id]) == []

    batches = [batch async for batch in iter_listings(any_database, tenant_id=owner.tenant_id, batch_size=2)]
    assert [len(batch) for batch in batches] == [2, 1]
    assert {item.listing.id for batch in batches for item in batch} == {item.id for item in listings}

    tenants = await list_tenants_with_listings(any_database, candidates=[other.tenant_id, owner.tenant_id])
    assert owner.tenant_id in tenants
    assert other.tenant_id not in tenants
