"""``CatalogReads`` in one process (L1 only): what a committed unit's catalogue events drop.

The database and Redis paths are in ``tests/integration/catalog/test_read_cache.py``;
here the loaders are counted, so "served from the cache" is a number, not a guess.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import AsyncIterator

import pytest

from folio.catalog.outbox import TOPIC
from folio.catalog.read_cache import BULK_CHANGES, READS_CACHE, CatalogReads
from folio.catalog.schemas import ListingRead, WorkRead
from folio.core.cache import Caches
from folio.core.outbox import EventDraft
from folio.core.settings.cache import CacheSettings

pytestmark = pytest.mark.unit

NOW = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
SHOP = uuid.uuid4()


def a_work(work_id: uuid.UUID, *, title: str = "A Work", owner: uuid.UUID | None = None) -> WorkRead:
    """A generated work (not real data): private to ``owner`` when given."""
    return WorkRead(
        id=work_id,
        isbn13=None,
        isbn10=None,
        title=title,
        authors=["An Author"],
        publisher=None,
        year=2001,
        subjects=[],
        language="en",
        cover_url=None,
        description=None,
        source="manual",
        source_key=str(work_id),
        preview_key="previews/x.pdf",
        published=owner is None,
        owner_tenant_id=owner,
        created_at=NOW,
        updated_at=NOW,
        version=1,
    )


class Loads:
    """Loaders that count their calls, answering what the test sets."""

    def __init__(self) -> None:
        self.works: dict[uuid.UUID, WorkRead] = {}
        self.calls: list[str] = []

    async def work(self, work_id: uuid.UUID) -> WorkRead:
        """The work as the database would return it."""
        self.calls.append(f"work {work_id}")
        return self.works[work_id]


@pytest.fixture
async def reads() -> AsyncIterator[CatalogReads]:
    """A read cache on an in-process cache (no Redis)."""
    caches = Caches(CacheSettings(backend="memory"))
    yield CatalogReads(caches.named(READS_CACHE))
    await caches.aclose()


def change(entity: str, entity_id: uuid.UUID | None, op: str = "upsert") -> EventDraft:
    """A catalogue event as ``record_change`` writes it."""
    payload = {"entity": entity, "op": op, "entity_id": None if entity_id is None else str(entity_id)}
    return EventDraft(topic=TOPIC, key=None, type=f"{entity}.changed", payload=payload)


async def test_a_work_keeps_its_hidden_fields_through_the_cache(reads: CatalogReads) -> None:
    """Owner and preview key survive the round trip (visibility and previews need them); one load."""
    loads, work_id = Loads(), uuid.uuid4()
    loads.works[work_id] = a_work(work_id, owner=SHOP)
    first = await reads.work(work_id, functools.partial(loads.work, work_id))
    second = await reads.work(work_id, functools.partial(loads.work, work_id))
    assert first == second == loads.works[work_id]
    assert (second.owner_tenant_id, second.preview_key, second.published) == (SHOP, "previews/x.pdf", False)
    assert loads.calls == [f"work {work_id}"]


async def test_a_listing_takes_its_title_from_its_works_entry(reads: CatalogReads) -> None:
    """A work's change drops only the work: the cached listing shows the new title without a reload."""
    loads, work_id, listing_id = Loads(), uuid.uuid4(), uuid.uuid4()
    loads.works[work_id] = a_work(work_id, title="Old Title")
    listing_loads: list[int] = []

    async def load_listing() -> ListingRead:
        listing_loads.append(1)
        return ListingRead(
            id=listing_id,
            work_id=work_id,
            title="Old Title",
            authors=["An Author"],
            price_cents=900,
            currency="EUR",
            stock=2,
            condition="good",
            created_by=uuid.uuid4(),
            created_at=NOW,
            updated_at=NOW,
            version=1,
        )

    first = await reads.listing(SHOP, listing_id, load_listing, loads.work)
    loads.works[work_id] = a_work(work_id, title="New Title")
    await reads.forget_changes([change("work", work_id)])
    second = await reads.listing(SHOP, listing_id, load_listing, loads.work)
    assert (first.title, second.title, second.price_cents) == ("Old Title", "New Title", 900)
    assert len(listing_loads) == 1
    assert len(loads.calls) == 2  # the work, before and after its change


async def test_changes_drop_what_they_name_and_bulk_changes_drop_everything(reads: CatalogReads) -> None:
    """A work change drops that work; a bulk import, or more than BULK_CHANGES changes, drops all."""
    loads = Loads()
    ids = [uuid.uuid4() for _ in range(3)]
    for work_id in ids:
        loads.works[work_id] = a_work(work_id)

    async def read_all() -> None:
        for work_id in ids:
            await reads.work(work_id, functools.partial(loads.work, work_id))

    await read_all()
    other_topic = EventDraft(topic="tasks", key=None, type="task.changed", payload={"entity": "work"})
    await reads.forget_changes([change("work", ids[0]), other_topic])
    await read_all()
    assert len(loads.calls) == 4  # three loads, then ids[0] again

    await reads.forget_changes([change("catalog", None, op="reindex")])
    await read_all()
    assert len(loads.calls) == 7

    many = [change("listing", uuid.uuid4()) for _ in range(BULK_CHANGES + 1)]
    await reads.forget_changes(many)
    await read_all()
    assert len(loads.calls) == 10
