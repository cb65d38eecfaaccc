"""The catalog service on PostgreSQL (as the app role) and SQLite: works, listings, audit, quota, outbox."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.api import list_events
from folio.catalog.api import (
    ListingCreate,
    ListingUpdate,
    WorkCreate,
    WorkUpdate,
    create_listing,
    create_work,
    delete_listing,
    get_listing,
    get_visible_works,
    get_work,
    list_listings,
    list_listings_after,
    list_works,
    update_listing,
    update_work,
)
from folio.catalog.schemas import ListingFilter, WorkFilter
from folio.core.db import Database
from folio.core.errors import (
    ConflictError,
    InvalidCursorError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    ValidationFailedError,
)
from folio.core.outbox import OutboxEvent
from folio.core.security import Role
from folio.core.settings import Settings
from folio.usage.api import Meter, set_quota_override
from tests.integration.catalog.conftest import generated_isbn, published_work
from tests.support.identity import create_member

pytestmark = pytest.mark.integration


async def changes_for(db: Database, entity_id: uuid.UUID) -> list[tuple[str, str, uuid.UUID | None]]:
    """The outbox rows about ``entity_id``: (entity, op, tenant_id), oldest first."""

    async def work(session: AsyncSession) -> list[tuple[str, str, uuid.UUID | None]]:
        rows = await session.execute(
            select(OutboxEvent.payload, OutboxEvent.tenant_id)
            .where(OutboxEvent.topic == "catalog", OutboxEvent.key == str(entity_id))
            .order_by(OutboxEvent.id)
        )
        return [(payload["entity"], payload["op"], tenant) for payload, tenant in rows]

    return await db.run(work)


async def test_work_lifecycle_with_audit_and_outbox(any_database: Database, settings: Settings) -> None:
    """Staff create a work, owners change it; each write is audited and outboxed; an ISBN twice is a 409."""
    owner = await create_member(any_database)
    staff = await create_member(any_database, role=Role.STAFF, tenant_id=owner.tenant_id)
    isbn = generated_isbn()
    created = await create_work(
        any_database,
        principal=staff,
        data=WorkCreate(isbn=isbn, title="Generated Work", authors=["A. Author"]),
    )
    assert (created.isbn13, created.version, created.source, created.has_preview) == (
        isbn,
        1,
        "manual",
        False,
    )
    assert (await get_work(any_database, principal=owner, work_id=created.id)).title == "Generated Work"

    with pytest.raises(ConflictError) as duplicate:
        await create_work(any_database, principal=owner, data=WorkCreate(isbn=isbn, title="Again"))
    assert duplicate.value.extra["existing_id"] == str(created.id)

    with pytest.raises(PermissionDeniedError):
        await update_work(any_database, principal=staff, work_id=created.id, data=WorkUpdate(title="No"))
    updated = await update_work(
        any_database, principal=owner, work_id=created.id, data=WorkUpdate(year=1999, version=1)
    )
    assert (updated.year, updated.version) == (1999, 2)
    same = await update_work(any_database, principal=owner, work_id=created.id, data=WorkUpdate(year=1999))
    assert same.version == 2
    with pytest.raises(ConflictError):
        await update_work(
            any_database, principal=owner, work_id=created.id, data=WorkUpdate(title="x", version=1)
        )

    assert await changes_for(any_database, created.id) == [("work", "upsert", None), ("work", "upsert", None)]
    events = await list_events(any_database, settings=settings, principal=owner, entity_id=str(created.id))
    assert [event.action for event in events.items] == ["work.updated", "work.created"]

    found = await list_works(any_database, settings=settings, principal=staff, filters=WorkFilter(isbn=isbn))
    assert [work.id for work in found.items] == [created.id]
    by_author = await list_works(
        any_database, settings=settings, principal=staff, filters=WorkFilter(author="a. auth", year=1999)
    )
    assert created.id in [work.id for work in by_author.items]
    with pytest.raises(ValidationFailedError):
        # The right shape, the wrong check digit: refused by the service, naming query.isbn.
        await list_works(
            any_database, settings=settings, principal=staff, filters=WorkFilter(isbn="0-306-40615-3")
        )


async def test_customers_read_but_do_not_write(any_database: Database) -> None:
    """A customer may read works and listings but creates neither."""
    owner = await create_member(any_database)
    customer = await create_member(any_database, role=Role.CUSTOMER, tenant_id=owner.tenant_id)
    with pytest.raises(PermissionDeniedError):
        await create_work(any_database, principal=customer, data=WorkCreate(title="Nope"))
    work = await create_work(any_database, principal=owner, data=WorkCreate(title="Readable"))
    assert (await get_work(any_database, principal=customer, work_id=work.id)).id == work.id


async def test_a_batch_read_sees_what_get_work_sees(any_database: Database) -> None:
    """``get_visible_works`` keeps a shop's own and published works; another's private one is absent."""
    shop_a = await create_member(any_database)
    shop_b = await create_member(any_database)
    private = await create_work(any_database, principal=shop_a, data=WorkCreate(title="Shop A's Own"))
    shared = await published_work(any_database, shop_a, "Everyone's")
    ids = [private.id, shared.id, uuid.uuid4()]
    seen_by_a = await get_visible_works(any_database, principal=shop_a, work_ids=ids)
    assert set(seen_by_a) == {private.id, shared.id}
    seen_by_b = await get_visible_works(any_database, principal=shop_b, work_ids=ids)
    assert seen_by_b == {shared.id: await get_work(any_database, principal=shop_b, work_id=shared.id)}
    with pytest.raises(NotFoundError):
        await get_work(any_database, principal=shop_b, work_id=private.id)


async def test_listing_lifecycle(any_database: Database, settings: Settings) -> None:
    """Listings are created, read, changed with versions, refused twice per condition, and deleted."""
    owner = await create_member(any_database)
    customer = await create_member(any_database, role=Role.CUSTOMER, tenant_id=owner.tenant_id)
    work = await create_work(any_database, principal=owner, data=WorkCreate(title="For Sale"))
    data = ListingCreate(work_id=work.id, price_cents=1250, currency="eur", stock=2, condition="good")
    listing = await create_listing(any_database, settings=settings, principal=owner, data=data)
    assert (listing.currency, listing.condition, listing.version) == ("EUR", "good", 1)
    assert (await get_listing(any_database, principal=customer, listing_id=listing.id)).id == listing.id

    with pytest.raises(ConflictError):
        await create_listing(any_database, settings=settings, principal=owner, data=data)
    with pytest.raises(PermissionDeniedError):
        await create_listing(any_database, settings=settings, principal=customer, data=data)
    with pytest.raises(PermissionDeniedError):
        await update_listing(
            any_database, principal=customer, listing_id=listing.id, data=ListingUpdate(stock=1)
        )
    with pytest.raises(ValidationFailedError):
        await create_listing(
            any_database,
            settings=settings,
            principal=owner,
            data=ListingCreate(work_id=uuid.uuid4(), price_cents=1, currency="EUR"),
        )

    second = await create_listing(
        any_database,
        settings=settings,
        principal=owner,
        data=ListingCreate(work_id=work.id, price_cents=900, currency="EUR", condition="acceptable"),
    )
    with pytest.raises(ConflictError):
        await update_listing(
            any_database, principal=owner, listing_id=second.id, data=ListingUpdate(condition="good")
        )

    changed = await update_listing(
        any_database, principal=owner, listing_id=listing.id, data=ListingUpdate(stock=5), if_version=1
    )
    assert (changed.stock, changed.version) == (5, 2)
    with pytest.raises(ConflictError):
        await update_listing(
            any_database, principal=owner, listing_id=listing.id, data=ListingUpdate(stock=6), if_version=1
        )

    page = await list_listings(
        any_database, settings=settings, principal=customer, filters=ListingFilter(in_stock=True)
    )
    assert [item.id for item in page.items] == [listing.id]

    with pytest.raises(PermissionDeniedError):
        await delete_listing(any_database, principal=customer, listing_id=listing.id)
    await delete_listing(any_database, principal=owner, listing_id=listing.id)
    with pytest.raises(NotFoundError):
        await get_listing(any_database, principal=owner, listing_id=listing.id)

    tenant = owner.tenant_id
    assert await changes_for(any_database, listing.id) == [
        ("listing", "upsert", tenant),
        ("listing", "upsert", tenant),
        ("listing", "delete", tenant),
    ]
    events = await list_events(any_database, settings=settings, principal=owner, entity_id=str(listing.id))
    assert [event.action for event in events.items] == [
        "listing.deleted",
        "listing.updated",
        "listing.created",
    ]


async def test_another_shops_listing_is_not_found(any_database: Database, settings: Settings) -> None:
    """Shop B cannot read, change, delete or list shop A's listing: it is 404, never 403."""
    shop_a = await create_member(any_database)
    shop_b = await create_member(any_database)
    work = await published_work(any_database, shop_a, "Shared Work")
    listing = await create_listing(
        any_database,
        settings=settings,
        principal=shop_a,
        data=ListingCreate(work_id=work.id, price_cents=500, currency="GBP"),
    )
    with pytest.raises(NotFoundError):
        await get_listing(any_database, principal=shop_b, listing_id=listing.id)
    with pytest.raises(NotFoundError):
        await update_listing(
            any_database, principal=shop_b, listing_id=listing.id, data=ListingUpdate(stock=9)
        )
    with pytest.raises(NotFoundError):
        await delete_listing(any_database, principal=shop_b, listing_id=listing.id)
    assert (await list_listings(any_database, settings=settings, principal=shop_b)).total == 0
    # The same work may be listed by both shops in the same condition.
    mine = await create_listing(
        any_database,
        settings=settings,
        principal=shop_b,
        data=ListingCreate(work_id=work.id, price_cents=450, currency="GBP"),
    )
    assert mine.work_id == listing.work_id


async def test_listing_quota(any_database: Database, settings: Settings) -> None:
    """At the quota the next listing is refused (403 quota-exceeded) and nothing is written."""
    owner = await create_member(any_database)
    await set_quota_override(any_database, tenant_id=owner.tenant_id, meter=Meter.LISTINGS, limit=2)
    work = await create_work(any_database, principal=owner, data=WorkCreate(title="Quota Work"))
    for condition in ("new", "good"):
        await create_listing(
            any_database,
            settings=settings,
            principal=owner,
            data=ListingCreate(work_id=work.id, price_cents=100, currency="EUR", condition=condition),
        )
    with pytest.raises(QuotaExceededError) as full:
        await create_listing(
            any_database,
            settings=settings,
            principal=owner,
            data=ListingCreate(work_id=work.id, price_cents=100, currency="EUR", condition="acceptable"),
        )
    assert (full.value.extra["limit"], full.value.extra["in_use"]) == (2, 2)
    assert (await list_listings(any_database, settings=settings, principal=owner)).total == 2


async def test_outbox_row_is_not_written_when_the_transaction_fails(
    any_database: Database, settings: Settings
) -> None:
    """A write that fails (duplicate listing, quota) leaves no outbox row behind."""
    owner = await create_member(any_database)
    work = await create_work(any_database, principal=owner, data=WorkCreate(title="Rollback Work"))

    async def listing_changes(session: AsyncSession) -> int:
        rows = await session.execute(
            select(OutboxEvent.id).where(
                OutboxEvent.tenant_id == owner.tenant_id, OutboxEvent.type.startswith("listing.")
            )
        )
        return len(rows.all())

    data = ListingCreate(work_id=work.id, price_cents=100, currency="EUR")
    await create_listing(any_database, settings=settings, principal=owner, data=data)
    assert await any_database.run(listing_changes) == 1
    with pytest.raises(ConflictError):
        await create_listing(any_database, settings=settings, principal=owner, data=data)
    await set_quota_override(any_database, tenant_id=owner.tenant_id, meter=Meter.LISTINGS, limit=1)
    with pytest.raises(QuotaExceededError):
        await create_listing(
            any_database,
            settings=settings,
            principal=owner,
            data=ListingCreate(work_id=work.id, price_cents=100, currency="EUR", condition="good"),
        )
    assert await any_database.run(listing_changes) == 1


async def test_v2_cursor_pages(any_database: Database, settings: Settings) -> None:
    """Keyset pages cover every listing once, newest first; a tampered cursor is refused."""
    small = settings.model_copy(update={"api": settings.api.model_copy(update={"default_page_size": 2})})
    owner = await create_member(any_database)
    ids = []
    for i in range(5):
        work = await create_work(any_database, principal=owner, data=WorkCreate(title=f"Paged {i}"))
        listing = await create_listing(
            any_database,
            settings=small,
            principal=owner,
            data=ListingCreate(work_id=work.id, price_cents=100 + i, currency="EUR"),
        )
        ids.append(listing.id)
    seen: list[uuid.UUID] = []
    cursor = None
    while True:
        page = await list_listings_after(any_database, settings=small, principal=owner, cursor=cursor)
        seen.extend(item.id for item in page.data)
        if not page.has_more:
            break
        cursor = page.next_cursor
    assert seen == list(reversed(ids))
    with pytest.raises(InvalidCursorError):
        await list_listings_after(any_database, settings=small, principal=owner, cursor="forged.cursor")
