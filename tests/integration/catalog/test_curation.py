"""Who sees a work (its shop until the curator publishes it), and the curator's junk removal."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.api import list_events
from folio.catalog.api import (
    ListingCreate,
    WorkCreate,
    WorkUpdate,
    create_listing,
    create_work,
    find_junk_works,
    get_work,
    list_works,
    remove_works,
    set_work_published,
    update_work,
)
from folio.catalog.models import Work
from folio.catalog.schemas import WorkFilter
from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from folio.core.outbox import OutboxEvent
from folio.core.security import Principal
from folio.core.settings import Settings
from tests.support.identity import create_member

pytestmark = pytest.mark.integration


async def titles_seen(db: Database, settings: Settings, principal: Principal, q: str) -> list[str]:
    """The titles ``principal``'s shop finds in the works list for ``q``."""
    page = await list_works(db, settings=settings, principal=principal, filters=WorkFilter(q=q))
    return [work.title for work in page.items]


async def work_changes(db: Database, work_id: uuid.UUID) -> list[str]:
    """The outbox ops written for ``work_id``, oldest first."""

    async def work(session: AsyncSession) -> list[str]:
        rows = await session.execute(
            select(OutboxEvent.payload)
            .where(OutboxEvent.topic == "catalog", OutboxEvent.key == str(work_id))
            .order_by(OutboxEvent.id)
        )
        return [payload["op"] for payload in rows.scalars()]

    return await db.run(work)


async def test_a_shops_work_is_private_until_the_curator_publishes_it(
    any_database: Database, settings: Settings
) -> None:
    """Shop A sees, lists, sells its work; shop B gets 404 until it is published, and once unpublished."""
    db = any_database
    shop_a = await create_member(db)
    shop_b = await create_member(db)
    marker = f"Generated Private {uuid.uuid4().hex[:8]}"
    work = await create_work(db, principal=shop_a, data=WorkCreate(title=marker))
    assert work.published is False

    assert (await get_work(db, principal=shop_a, work_id=work.id)).title == marker
    assert await titles_seen(db, settings, shop_a, marker) == [marker]
    listing = ListingCreate(work_id=work.id, price_cents=700, currency="EUR")
    await create_listing(db, settings=settings, principal=shop_a, data=listing)
    with pytest.raises(NotFoundError):
        await get_work(db, principal=shop_b, work_id=work.id)
    assert await titles_seen(db, settings, shop_b, marker) == []
    with pytest.raises(ValidationFailedError):
        await create_listing(db, settings=settings, principal=shop_b, data=listing)
    with pytest.raises(NotFoundError):
        await update_work(db, principal=shop_b, work_id=work.id, data=WorkUpdate(year=1999))
    renamed = await update_work(db, principal=shop_a, work_id=work.id, data=WorkUpdate(subjects=["poetry"]))
    assert renamed.subjects == ["poetry"]

    published = await set_work_published(db, work_id=work.id, published=True, operator="test curator")
    assert (published.published, published.version) == (True, 3)
    assert (await get_work(db, principal=shop_b, work_id=work.id)).published is True
    assert await titles_seen(db, settings, shop_b, marker) == [marker]
    await create_listing(db, settings=settings, principal=shop_b, data=listing)
    with pytest.raises(PermissionDeniedError):
        await update_work(db, principal=shop_a, work_id=work.id, data=WorkUpdate(year=1999))
    again = await set_work_published(db, work_id=work.id, published=True, operator="test curator")
    assert again.version == 3  # publishing a published work changes nothing

    await set_work_published(db, work_id=work.id, published=False, operator="test curator")
    with pytest.raises(NotFoundError):
        await get_work(db, principal=shop_b, work_id=work.id)
    assert await work_changes(db, work.id) == ["upsert", "upsert", "upsert", "upsert"]
    events = await list_events(db, settings=settings, principal=shop_a, entity_id=str(work.id))
    assert [event.action for event in events.items] == [
        "work.unpublished",
        "work.published",
        "work.updated",
        "work.created",
    ]
    assert {event.actor_kind for event in events.items[:2]} == {"system"}


async def test_publishing_a_missing_work_is_not_found(any_database: Database) -> None:
    """The curator naming no work gets NotFoundError (the CLI's clear one-line error)."""
    with pytest.raises(NotFoundError):
        await set_work_published(any_database, work_id=uuid.uuid4(), published=True, operator="test curator")


async def insert_generated_work(db: Database, title: str, *, owner: uuid.UUID | None) -> uuid.UUID:
    """A generated work written straight to the table, as the fuzzer's works were before the text rule."""
    work_id = uuid.uuid4()

    async def work(session: AsyncSession) -> None:
        now = utcnow()
        session.add(
            Work(
                id=work_id,
                title=title,
                authors=[],
                subjects=[],
                source="manual",
                source_key=work_id.hex,
                published=owner is None,
                owner_tenant_id=owner,
                created_at=now,
                updated_at=now,
                version=1,
            )
        )

    await db.run(work)
    return work_id


async def test_junk_is_found_by_its_reasons_and_only_unlisted_junk_is_removed(
    sqlite_database: Database, settings: Settings
) -> None:
    """Control characters, lost-byte mojibake and letterless titles are junk; a listed junk work is kept.

    On a fresh SQLite file, so the scan sees this test's works only.
    """
    db = sqlite_database
    shop = await create_member(db)
    escape = await insert_generated_work(db, "Generated \x1b[31mfuzz\x01", owner=shop.tenant_id)
    letterless = await insert_generated_work(db, "!!! ???", owner=None)
    lost_bytes = "Das sÃ?Â¼Ã?Â?e VermÃ?Â¤chtnis (generated copy)"
    mojibake = await insert_generated_work(db, lost_bytes, owner=shop.tenant_id)
    clean = await insert_generated_work(db, "Generated Clean Title", owner=None)
    await create_listing(
        db,
        settings=settings,
        principal=shop,
        data=ListingCreate(work_id=mojibake, price_cents=100, currency="EUR"),
    )

    junk = {item.id: item.reasons for item in await find_junk_works(db)}
    assert junk == {
        escape: ["control-characters"],
        letterless: ["no-letters"],
        mojibake: ["unrepairable-mojibake"],
    }
    assert clean not in junk
    assert [item.id for item in await find_junk_works(db, source="book-crossing")] == []

    report = await remove_works(db, list(junk), operator="test curator")
    assert sorted(report.removed, key=str) == sorted([escape, letterless], key=str)
    assert report.listed == [mojibake]
    assert {item.id for item in await find_junk_works(db)} == {mojibake}
    assert await work_changes(db, escape) == ["delete"]
    assert await work_changes(db, letterless) == ["delete"]
    trail = await list_events(db, settings=settings, principal=shop, entity_id=str(escape))
    assert [(event.action, event.actor_kind) for event in trail.items] == [("work.removed", "system")]
    again = await remove_works(db, [escape], operator="test curator")
    assert again.missing == [escape]
