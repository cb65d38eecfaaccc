"""The catalog use cases: the HTTP adapters, the CLI and the search context call these.

Each function that works for a caller takes ``(db, *, [settings,] principal, ...)`` and
runs one unit of work (``Database.run``): the change, its audit event, its usage count
and its outbox row (``folio.catalog.outbox``) commit together or not at all.

Rules:

- Works are shared by every shop once **published**, by the platform's curator (the
  operator, ``folio catalog works publish``) or by a verified import (``folio catalog
  import``). A work created over the API is private to the creating shop until then:
  that shop reads, lists, searches and lists it for sale; every other shop gets 404.
  Any member may read the works visible to the shop; staff (owner, admin, staff) may
  create them; owners and admins may change their shop's unpublished works (a
  published work is the curator's); nobody deletes them over the API (listings and
  orders point at them). An ISBN already catalogued is a 409 ``conflict`` whose
  ``existing_id`` names the work that has it (visible or not: ISBNs are unique).
- Listings belong to a shop (``tenant_scope``, row-level security). Any member reads
  the shop's listings; staff create, change and delete them. Another shop's listing
  is 404. One listing per work and condition per shop (409 on a duplicate). Creating
  one counts against the ``listings`` quota (403 ``quota-exceeded``).
- Updates may name the ``version`` they were made against (body or ``If-Match``); a
  record that has moved on answers 409. A change that changes nothing writes nothing.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.api import record_change_event
from folio.catalog.isbn import InvalidIsbnError, parse_isbn
from folio.catalog.models import Listing, Work
from folio.catalog.outbox import record_change
from folio.catalog.read_cache import CatalogReads
from folio.catalog.repository import ListingRepository, WorkQuery, WorkRepository
from folio.catalog.schemas import (
    ListingCreate,
    ListingCursorPage,
    ListingFilter,
    ListingPage,
    ListingRead,
    ListingUpdate,
    ListingWithWork,
    WorkCreate,
    WorkFilter,
    WorkPage,
    WorkRead,
    WorkUpdate,
)
from folio.core.columns import utcnow
from folio.core.cursors import KeysetCursorCodec
from folio.core.db import Database
from folio.core.errors import (
    ConflictError,
    InvalidParam,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailedError,
)
from folio.core.paging import api_page_size, keyset_slice, page_offset
from folio.core.security import MANAGER_ROLES, STAFF_ROLES, Principal, require_role
from folio.core.settings import Settings
from folio.core.tenancy import tenant_scope
from folio.core.versioning import check_version
from folio.usage.api import Meter, claim_quota, record_usage

__all__ = [
    "MANUAL_SOURCE",
    "create_listing",
    "create_work",
    "delete_listing",
    "get_listing",
    "get_listings_for_search",
    "get_visible_works",
    "get_work",
    "get_work_preview_key",
    "get_works",
    "iter_listings",
    "iter_works",
    "list_listings",
    "list_listings_after",
    "list_tenants_with_listings",
    "list_works",
    "update_listing",
    "update_work",
]

log = structlog.get_logger(__name__)

MANUAL_SOURCE = "manual"
"""The ``source`` of works created over the API."""


# --- works ------------------------------------------------------------------------------------


def _work_not_found(work_id: uuid.UUID) -> NotFoundError:
    return NotFoundError(f"there is no work {work_id}", entity="work")


def _isbn_conflict(existing: Work) -> ConflictError:
    return ConflictError(
        f"ISBN {existing.isbn13} is already catalogued as work {existing.id}; list that work instead",
        existing_id=str(existing.id),
    )


def _may_see(work: Work | WorkRead, principal: Principal) -> bool:
    """Whether the caller's shop may see ``work``: every shop sees it once published, its owner always."""
    return work.published or work.owner_tenant_id == principal.tenant_id


def _visible(work: Work | None, principal: Principal) -> Work | None:
    """``work`` if the caller's shop may see it, else None."""
    return work if work is None or _may_see(work, principal) else None


async def create_work(db: Database, *, principal: Principal, data: WorkCreate) -> WorkRead:
    """Catalogue a new work (staff), private to the caller's shop; audited ``work.created`` there.

    Raises:
        PermissionDeniedError: the caller is a customer.
        ConflictError: a work with the same ISBN exists (``existing_id`` names it).
    """
    require_role(principal, STAFF_ROLES, action="create works")
    isbn = parse_isbn(data.isbn) if data.isbn is not None else None

    async def work(session: AsyncSession) -> WorkRead:
        works = WorkRepository(session)
        if isbn is not None and (existing := await works.by_isbn13(isbn.isbn13)) is not None:
            raise _isbn_conflict(existing)
        now = utcnow()
        work_id = uuid.uuid4()
        record = Work(
            id=work_id,
            isbn13=isbn.isbn13 if isbn else None,
            isbn10=isbn.isbn10 if isbn else None,
            title=data.title,
            authors=list(data.authors),
            publisher=data.publisher,
            year=data.year,
            subjects=list(data.subjects),
            language=data.language,
            cover_url=data.cover_url,
            description=data.description,
            source=MANUAL_SOURCE,
            source_key=isbn.isbn13 if isbn else work_id.hex,
            preview_key=None,
            published=False,
            owner_tenant_id=principal.tenant_id,
            created_at=now,
            updated_at=now,
            version=1,
        )
        await works.add(record)
        try:
            # A savepoint: a concurrent insert of the same ISBN surfaces here as a 409,
            # not as a failed transaction.
            async with session.begin_nested():
                await session.flush()
        except IntegrityError:
            raise ConflictError(f"ISBN {record.isbn13} was catalogued meanwhile; fetch it by ISBN") from None
        created = WorkRead.model_validate(record)
        await record_change(session, entity="work", op="upsert", entity_id=work_id)
        await record_change_event(
            session,
            principal,
            action="work.created",
            entity_type="work",
            entity_id=work_id,
            after=created.model_dump(mode="json"),
        )
        return created

    # The work is shared, but its audit event belongs to the caller's shop's trail.
    with tenant_scope(principal.tenant_id):
        created = await db.run(work)
    log.info("work.created", work_id=str(created.id), tenant_id=str(principal.tenant_id))
    return created


async def update_work(
    db: Database, *, principal: Principal, work_id: uuid.UUID, data: WorkUpdate, if_version: int | None = None
) -> WorkRead:
    """Apply the fields ``data`` carries to one of the shop's unpublished works (owners and admins).

    Audited ``work.updated`` with before/after.

    Raises:
        PermissionDeniedError: the caller is staff or a customer, or the work is published
            (shared works are changed by the platform's curator only).
        NotFoundError: no such work visible to the shop.
        ConflictError: the work's version is not the one expected.
    """
    require_role(principal, MANAGER_ROLES, action="change works")
    changes = data.changes()

    async def work(session: AsyncSession) -> WorkRead:
        record = _visible(await WorkRepository(session).get(work_id, for_update=True), principal)
        if record is None:
            raise _work_not_found(work_id)
        if record.published:
            raise PermissionDeniedError(
                "published works are shared by every shop and changed by the platform's curator only"
            )
        check_version("work", record.version, data.version, if_version)
        before = WorkRead.model_validate(record).model_dump(mode="json")
        for name, value in changes.items():
            setattr(record, name, value)
        if WorkRead.model_validate(record).model_dump(mode="json") == before:
            return WorkRead.model_validate(record)
        record.version += 1
        record.updated_at = utcnow()
        updated = WorkRead.model_validate(record)
        await record_change(session, entity="work", op="upsert", entity_id=work_id)
        await record_change_event(
            session,
            principal,
            action="work.updated",
            entity_type="work",
            entity_id=work_id,
            before=before,
            after=updated.model_dump(mode="json"),
        )
        return updated

    with tenant_scope(principal.tenant_id):
        return await db.run(work)


async def get_work(
    db: Database, *, principal: Principal, work_id: uuid.UUID, reads: CatalogReads | None = None
) -> WorkRead:
    """The work, if the caller's shop may see it (published, or its own); else ``NotFoundError``.

    With ``reads`` (the platform's ``CATALOG_READS``) the work comes from the cache when
    it is there; the same visibility rule applies to it.
    """
    load = functools.partial(_load_work, db, work_id)
    found = await (reads.work(work_id, load) if reads is not None else load())
    if not _may_see(found, principal):
        raise _work_not_found(work_id)
    return found


async def get_visible_works(
    db: Database, *, principal: Principal, work_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, WorkRead]:
    """The works among ``work_ids`` the caller's shop may see, by id, in one query (a batch ``get_work``).

    The visibility rule is ``get_work``'s; a missing id and a work the shop may not see
    are both simply absent from the answer.
    """

    async def work(session: AsyncSession) -> dict[uuid.UUID, WorkRead]:
        found = await WorkRepository(session).by_ids(work_ids)
        return {record.id: WorkRead.model_validate(record) for record in found if _may_see(record, principal)}

    return await db.run(work, readonly=True)


async def _load_work(db: Database, work_id: uuid.UUID) -> WorkRead:
    """The work whoever owns it (``NotFoundError`` when missing): callers apply visibility."""

    async def work(session: AsyncSession) -> WorkRead:
        record = await WorkRepository(session).get(work_id)
        if record is None:
            raise _work_not_found(work_id)
        return WorkRead.model_validate(record)

    return await db.run(work, readonly=True)


async def get_work_preview_key(db: Database, *, principal: Principal, work_id: uuid.UUID) -> str:
    """Where the work's sample-chapter PDF is stored; ``NotFoundError`` when it has none."""
    found = await get_work(db, principal=principal, work_id=work_id)
    if found.preview_key is None:
        raise NotFoundError(f"work {work_id} has no preview", entity="preview")
    return found.preview_key


async def list_works(
    db: Database,
    *,
    settings: Settings,
    principal: Principal,
    filters: WorkFilter | None = None,
    page: int = 1,
    per_page: int | None = None,
) -> WorkPage:
    """One numbered page of the works the shop sees matching ``filters``, by title.

    An unparsable ``isbn`` filter is a 422.
    """
    size = api_page_size(settings, per_page, name="per_page")
    offset = page_offset(page, size)
    filters = filters or WorkFilter()
    isbn13 = None
    if filters.isbn is not None:
        try:
            isbn13 = parse_isbn(filters.isbn).isbn13
        except InvalidIsbnError as exc:
            raise ValidationFailedError(
                str(exc), errors=[InvalidParam(name="query.isbn", reason=str(exc))]
            ) from None
    query = WorkQuery(
        q=filters.q, isbn13=isbn13, author=filters.author, year=filters.year, visible_to=principal.tenant_id
    )

    async def work(session: AsyncSession) -> WorkPage:
        found, total = await WorkRepository(session).find_page(query, offset=offset, limit=size)
        return WorkPage.of([WorkRead.model_validate(w) for w in found], total=total, page=page, per_page=size)

    return await db.run(work, readonly=True)


# --- listings ---------------------------------------------------------------------------------


def _listing_not_found(listing_id: uuid.UUID) -> NotFoundError:
    return NotFoundError(f"there is no listing {listing_id}", entity="listing")


def _duplicate_listing(existing: Listing) -> ConflictError:
    return ConflictError(
        f"the shop already lists this work in condition {existing.condition!r} (listing {existing.id}); "
        "change that listing's stock or price instead",
        existing_id=str(existing.id),
    )


async def _flush_or_conflict(session: AsyncSession) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        # The unique (shop, work, condition) constraint: another request won the race.
        raise ConflictError("the shop already lists this work in this condition") from None


async def create_listing(
    db: Database, *, settings: Settings, principal: Principal, data: ListingCreate
) -> ListingRead:
    """List a work for sale in ``principal``'s shop (staff); audited, outboxed, counted against the quota.

    Raises:
        PermissionDeniedError: the caller is a customer.
        ValidationFailedError: there is no such work.
        ConflictError: the shop already lists the work in that condition.
        QuotaExceededError: the shop holds as many listings as its quota allows.
    """
    require_role(principal, STAFF_ROLES, action="create listings")

    async def work(session: AsyncSession) -> ListingRead:
        listings = ListingRepository(session)
        listed = _visible(await WorkRepository(session).get(data.work_id), principal)
        if listed is None:
            raise ValidationFailedError(
                f"there is no work {data.work_id}",
                errors=[InvalidParam(name="body.work_id", reason="no such work")],
            )
        existing = await listings.find_duplicate(work_id=data.work_id, condition=data.condition.value)
        if existing is not None:
            raise _duplicate_listing(existing)
        await claim_quota(
            session,
            settings=settings,
            tenant_id=principal.tenant_id,
            meter=Meter.LISTINGS,
            count_in_use=listings.count,
        )
        now = utcnow()
        listing = Listing(
            id=uuid.uuid4(),
            work_id=data.work_id,
            work=listed,
            price_cents=data.price_cents,
            currency=data.currency,
            stock=data.stock,
            condition=data.condition.value,
            created_by=principal.actor_id,
            created_at=now,
            updated_at=now,
            version=1,
        )
        await listings.add(listing)
        await _flush_or_conflict(session)
        created = ListingRead.model_validate(listing)
        await record_change(
            session, entity="listing", op="upsert", entity_id=listing.id, tenant_id=principal.tenant_id
        )
        await record_change_event(
            session,
            principal,
            action="listing.created",
            entity_type="listing",
            entity_id=listing.id,
            after=created.model_dump(mode="json"),
        )
        await record_usage(session, tenant_id=principal.tenant_id, meter=Meter.LISTINGS)
        return created

    with tenant_scope(principal.tenant_id):
        created = await db.run(work)
    log.info("listing.created", listing_id=str(created.id), tenant_id=str(principal.tenant_id))
    return created


async def update_listing(
    db: Database,
    *,
    principal: Principal,
    listing_id: uuid.UUID,
    data: ListingUpdate,
    if_version: int | None = None,
) -> ListingRead:
    """Apply the fields ``data`` carries (staff); audited ``listing.updated``.

    Raises:
        NotFoundError: no such listing in the shop (checked before the role).
        PermissionDeniedError: the caller is a customer.
        ConflictError: a stale version, or the new condition duplicates another listing.
    """
    changes = data.changes()

    async def work(session: AsyncSession) -> ListingRead:
        listings = ListingRepository(session)
        listing = await listings.get(listing_id, for_update=True)
        if listing is None:
            raise _listing_not_found(listing_id)
        require_role(principal, STAFF_ROLES, action="change listings")
        check_version("listing", listing.version, data.version, if_version)
        before = ListingRead.model_validate(listing).model_dump(mode="json")
        if "condition" in changes and changes["condition"] != listing.condition:
            existing = await listings.find_duplicate(
                work_id=listing.work_id, condition=changes["condition"], other_than=listing.id
            )
            if existing is not None:
                raise _duplicate_listing(existing)
        for name, value in changes.items():
            setattr(listing, name, value)
        if ListingRead.model_validate(listing).model_dump(mode="json") == before:
            return ListingRead.model_validate(listing)
        listing.version += 1
        listing.updated_at = utcnow()
        await _flush_or_conflict(session)
        updated = ListingRead.model_validate(listing)
        await record_change(
            session, entity="listing", op="upsert", entity_id=listing.id, tenant_id=principal.tenant_id
        )
        await record_change_event(
            session,
            principal,
            action="listing.updated",
            entity_type="listing",
            entity_id=listing.id,
            before=before,
            after=updated.model_dump(mode="json"),
        )
        return updated

    with tenant_scope(principal.tenant_id):
        return await db.run(work)


async def delete_listing(
    db: Database, *, principal: Principal, listing_id: uuid.UUID, if_version: int | None = None
) -> None:
    """Delete a listing (staff); audited ``listing.deleted``, outboxed as a ``delete``.

    Raises:
        NotFoundError: no such listing in the shop (checked before the role).
        PermissionDeniedError: the caller is a customer.
        ConflictError: ``if_version`` is given and the listing has moved on.
    """

    async def work(session: AsyncSession) -> None:
        listings = ListingRepository(session)
        listing = await listings.get(listing_id, for_update=True)
        if listing is None:
            raise _listing_not_found(listing_id)
        require_role(principal, STAFF_ROLES, action="delete listings")
        check_version("listing", listing.version, if_version)
        before = ListingRead.model_validate(listing).model_dump(mode="json")
        await listings.remove(listing)
        await record_change(
            session, entity="listing", op="delete", entity_id=listing_id, tenant_id=principal.tenant_id
        )
        await record_change_event(
            session,
            principal,
            action="listing.deleted",
            entity_type="listing",
            entity_id=listing_id,
            before=before,
        )

    with tenant_scope(principal.tenant_id):
        await db.run(work)


async def get_listing(
    db: Database, *, principal: Principal, listing_id: uuid.UUID, reads: CatalogReads | None = None
) -> ListingRead:
    """The shop's listing; ``NotFoundError`` when missing or another shop's.

    With ``reads`` it comes from the cache when it is there (kept per shop).
    """

    async def work(session: AsyncSession) -> ListingRead:
        listing = await ListingRepository(session).get(listing_id)
        if listing is None:
            raise _listing_not_found(listing_id)
        return ListingRead.model_validate(listing)

    async def load() -> ListingRead:
        with tenant_scope(principal.tenant_id):
            return await db.run(work, readonly=True)

    if reads is None:
        return await load()
    return await reads.listing(principal.tenant_id, listing_id, load, functools.partial(_load_work, db))


async def list_listings(
    db: Database,
    *,
    settings: Settings,
    principal: Principal,
    filters: ListingFilter | None = None,
    page: int = 1,
    per_page: int | None = None,
) -> ListingPage:
    """One numbered page of the shop's listings, newest first."""
    size = api_page_size(settings, per_page, name="per_page")
    offset = page_offset(page, size)
    filters = filters or ListingFilter()

    async def work(session: AsyncSession) -> ListingPage:
        found, total = await ListingRepository(session).find_page(filters, offset=offset, limit=size)
        return ListingPage.of(
            [ListingRead.model_validate(item) for item in found], total=total, page=page, per_page=size
        )

    with tenant_scope(principal.tenant_id):
        return await db.run(work, readonly=True)


def listing_cursor_codec(settings: Settings) -> KeysetCursorCodec:
    """The codec that signs and checks v2 listing cursors with this deployment's secret."""
    return KeysetCursorCodec(settings.security.secret_key.get_secret_value(), purpose="catalog.listings")


async def list_listings_after(
    db: Database,
    *,
    settings: Settings,
    principal: Principal,
    filters: ListingFilter | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> ListingCursorPage:
    """Up to ``limit`` of the shop's listings after ``cursor``, newest first (keyset: stable under inserts).

    Raises:
        InvalidCursorError: the cursor was not issued by this list, or was edited (400).
    """
    size = api_page_size(settings, limit, name="limit")
    codec = listing_cursor_codec(settings)
    after = codec.decode(cursor) if cursor is not None else None
    filters = filters or ListingFilter()

    async def work(session: AsyncSession) -> ListingCursorPage:
        rows, next_cursor = keyset_slice(
            await ListingRepository(session).find_after(filters, after=after, limit=size + 1),
            size,
            cursor_of=lambda last: codec.encode(last.created_at, last.id),
        )
        return ListingCursorPage(
            data=[ListingRead.model_validate(row) for row in rows],
            next_cursor=next_cursor,
            has_more=next_cursor is not None,
        )

    with tenant_scope(principal.tenant_id):
        return await db.run(work, readonly=True)


# --- for the search context (no principal: a trusted worker) ----------------------------------


async def get_works(db: Database, ids: Sequence[uuid.UUID]) -> list[WorkRead]:
    """The works among ``ids`` that exist (missing ids are left out), ordered by id."""

    async def work(session: AsyncSession) -> list[WorkRead]:
        return [WorkRead.model_validate(w) for w in await WorkRepository(session).by_ids(ids)]

    return await db.run(work)


async def iter_works(db: Database, *, batch_size: int = 1000) -> AsyncIterator[list[WorkRead]]:
    """Every work, in batches of up to ``batch_size``, keyset by id (one short transaction per batch)."""
    last: uuid.UUID | None = None
    while True:

        async def work(session: AsyncSession, after: uuid.UUID | None = last) -> list[WorkRead]:
            return [
                WorkRead.model_validate(w)
                for w in await WorkRepository(session).after(after, limit=batch_size)
            ]

        batch = await db.run(work)
        if not batch:
            return
        yield batch
        last = batch[-1].id


async def _with_works(session: AsyncSession, listings: list[Listing]) -> list[ListingWithWork]:
    works = {
        w.id: w for w in await WorkRepository(session).by_ids(sorted({item.work_id for item in listings}))
    }
    return [
        ListingWithWork(
            listing=ListingRead.model_validate(item), work=WorkRead.model_validate(works[item.work_id])
        )
        for item in listings
    ]


async def get_listings_for_search(
    db: Database, *, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[ListingWithWork]:
    """The shop's listings among ``ids``, each with its work (read inside ``tenant_scope(tenant_id)``)."""

    async def work(session: AsyncSession) -> list[ListingWithWork]:
        return await _with_works(session, await ListingRepository(session).by_ids(ids))

    with tenant_scope(tenant_id):
        return await db.run(work)


async def iter_listings(
    db: Database, *, tenant_id: uuid.UUID, batch_size: int = 1000
) -> AsyncIterator[list[ListingWithWork]]:
    """Every listing of the shop with its work, in batches, keyset by id."""
    last: uuid.UUID | None = None
    while True:

        async def work(session: AsyncSession, after: uuid.UUID | None = last) -> list[ListingWithWork]:
            return await _with_works(
                session, await ListingRepository(session).after_id(after, limit=batch_size)
            )

        with tenant_scope(tenant_id):
            batch = await db.run(work)
        if not batch:
            return
        yield batch
        last = batch[-1].listing.id


async def list_tenants_with_listings(db: Database, *, candidates: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """Those of the ``candidates`` (shop ids) that hold at least one listing, in the order given.

    Row-level security is kept, not bypassed: each shop is asked inside its own
    ``tenant_scope``. The caller names the shops (the search sync passes every shop
    identity knows), so nothing depends on what the outbox still holds.
    """

    async def holds_listings(session: AsyncSession) -> bool:
        return await ListingRepository(session).exists_any()

    found = []
    for tenant_id in candidates:
        with tenant_scope(tenant_id):
            if await db.run(holds_listings, readonly=True):
                found.append(tenant_id)
    return found
