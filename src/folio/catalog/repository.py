"""Where works and listings are kept: SQLAlchemy repositories over the caller's session.

- ``WorkRepository``: works carry no ``tenant_id`` and no RLS; what a shop may see of
  them is ``visible_to(tenant_id)``: the published works and the shop's own.
- ``ListingRepository``: every query carries ``tenant_filter(Listing)`` (PostgreSQL's
  row-level security underneath), so another shop's listing is indistinguishable from
  a missing one. Outside a ``tenant_scope`` its methods raise ``TenantRequiredError``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, String, cast, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.catalog.models import Listing, Work
from folio.catalog.schemas import ListingFilter
from folio.core.paging import keyset_after
from folio.core.tenancy import require_tenant, tenant_filter

__all__ = ["ListingRepository", "WorkQuery", "WorkRepository", "escape_like", "visible_to"]


def escape_like(text: str) -> str:
    r"""``text`` with LIKE's wildcards escaped (the pattern uses ``\\`` as escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def visible_to(tenant_id: uuid.UUID) -> ColumnElement[bool]:
    """The works ``tenant_id``'s shop may see: every published work, and its own unpublished ones."""
    return or_(Work.published.is_(True), Work.owner_tenant_id == tenant_id)


class WorkQuery:
    """A resolved works query (the ISBN already normalised to ISBN-13)."""

    def __init__(
        self,
        *,
        q: str | None = None,
        isbn13: str | None = None,
        author: str | None = None,
        year: int | None = None,
        visible_to: uuid.UUID | None = None,
    ) -> None:
        self.q = q
        self.visible_to = visible_to
        self.isbn13 = isbn13
        self.author = author
        self.year = year

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE conditions for this query."""
        conditions: list[ColumnElement[bool]] = []
        if self.visible_to is not None:
            conditions.append(visible_to(self.visible_to))
        if self.q:
            conditions.append(Work.title.ilike(f"%{escape_like(self.q)}%", escape="\\"))
        if self.isbn13 is not None:
            conditions.append(Work.isbn13 == self.isbn13)
        if self.author:
            # The JSON list as text: enough for "contains this name"; the search index
            # does real author search.
            conditions.append(cast(Work.authors, String).ilike(f"%{escape_like(self.author)}%", escape="\\"))
        if self.year is not None:
            conditions.append(Work.year == self.year)
        return conditions


class WorkRepository:
    """Works in the ``works`` table."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, work_id: uuid.UUID, *, for_update: bool = False) -> Work | None:
        """The work, or None."""
        statement = select(Work).where(Work.id == work_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_isbn13(self, isbn13: str) -> Work | None:
        """The work with this ISBN-13, or None."""
        return (await self.session.execute(select(Work).where(Work.isbn13 == isbn13))).scalar_one_or_none()

    async def by_ids(self, ids: Sequence[uuid.UUID]) -> list[Work]:
        """The works among ``ids`` that exist, by id."""
        if not ids:
            return []
        statement = select(Work).where(Work.id.in_(list(ids))).order_by(Work.id)
        return list((await self.session.execute(statement)).scalars())

    async def after(self, last: uuid.UUID | None, *, limit: int) -> list[Work]:
        """Up to ``limit`` works with ids greater than ``last``, by id (keyset)."""
        statement = select(Work).order_by(Work.id).limit(limit)
        if last is not None:
            statement = statement.where(Work.id > last)
        return list((await self.session.execute(statement)).scalars())

    async def add(self, work: Work) -> None:
        """Store a new work (flushed with the unit of work)."""
        self.session.add(work)

    async def find_page(self, query: WorkQuery, *, offset: int, limit: int) -> tuple[list[Work], int]:
        """One page by title then id, and the total matching."""
        conditions = query.conditions()
        total = int(
            (
                await self.session.execute(select(func.count()).select_from(Work).where(*conditions))
            ).scalar_one()
        )
        if offset >= total:
            return [], total
        statement = select(Work).where(*conditions).order_by(Work.title, Work.id).offset(offset).limit(limit)
        return list((await self.session.execute(statement)).scalars()), total


class ListingRepository:
    """Listings of the shop in scope."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, listing_id: uuid.UUID, *, for_update: bool = False) -> Listing | None:
        """The shop's listing, or None (another shop's listing is None too)."""
        statement = select(Listing).where(tenant_filter(Listing), Listing.id == listing_id)
        if for_update:
            # Lock the listing only, not the work joined in for its title.
            statement = statement.with_for_update(of=Listing)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_ids(self, ids: Sequence[uuid.UUID]) -> list[Listing]:
        """The shop's listings among ``ids``."""
        if not ids:
            return []
        statement = (
            select(Listing).where(tenant_filter(Listing), Listing.id.in_(list(ids))).order_by(Listing.id)
        )
        return list((await self.session.execute(statement)).scalars())

    async def after_id(self, last: uuid.UUID | None, *, limit: int) -> list[Listing]:
        """Up to ``limit`` of the shop's listings with ids greater than ``last``, by id (keyset)."""
        statement = select(Listing).where(tenant_filter(Listing)).order_by(Listing.id).limit(limit)
        if last is not None:
            statement = statement.where(Listing.id > last)
        return list((await self.session.execute(statement)).scalars())

    async def find_duplicate(
        self, *, work_id: uuid.UUID, condition: str, other_than: uuid.UUID | None = None
    ) -> Listing | None:
        """The shop's listing of ``work_id`` in ``condition`` (other than ``other_than``), if any."""
        statement = select(Listing).where(
            tenant_filter(Listing), Listing.work_id == work_id, Listing.condition == condition
        )
        if other_than is not None:
            statement = statement.where(Listing.id != other_than)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def add(self, listing: Listing) -> None:
        """Store a new listing under the shop in scope."""
        listing.tenant_id = require_tenant()
        self.session.add(listing)

    async def remove(self, listing: Listing) -> None:
        """Delete the listing (by id and tenant)."""
        await self.session.execute(delete(Listing).where(tenant_filter(Listing), Listing.id == listing.id))

    async def count(self) -> int:
        """How many listings the shop holds (for the quota)."""
        statement = select(func.count()).select_from(Listing).where(tenant_filter(Listing))
        return int((await self.session.execute(statement)).scalar_one())

    async def exists_any(self) -> bool:
        """Whether the shop holds any listing."""
        statement = select(Listing.id).where(tenant_filter(Listing)).limit(1)
        return (await self.session.execute(statement)).first() is not None

    @staticmethod
    def _conditions(filters: ListingFilter) -> list[ColumnElement[bool]]:
        conditions = [tenant_filter(Listing)]
        if filters.work_id is not None:
            conditions.append(Listing.work_id == filters.work_id)
        if filters.condition is not None:
            conditions.append(Listing.condition == filters.condition.value)
        if filters.in_stock is not None:
            conditions.append(Listing.stock > 0 if filters.in_stock else Listing.stock == 0)
        return conditions

    async def find_page(
        self, filters: ListingFilter, *, offset: int, limit: int
    ) -> tuple[list[Listing], int]:
        """One page, newest first, and the total matching."""
        conditions = self._conditions(filters)
        total = int(
            (
                await self.session.execute(select(func.count()).select_from(Listing).where(*conditions))
            ).scalar_one()
        )
        if offset >= total:
            return [], total
        statement = (
            select(Listing)
            .where(*conditions)
            .order_by(Listing.created_at.desc(), Listing.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars()), total

    async def find_after(
        self, filters: ListingFilter, *, after: tuple[dt.datetime, uuid.UUID] | None, limit: int
    ) -> list[Listing]:
        """Up to ``limit`` listings strictly after ``after`` (created_at, id) in newest-first order."""
        statement = select(Listing).where(*self._conditions(filters))
        if after is not None:
            created_at, last_id = after
            statement = statement.where(
                keyset_after(Listing.created_at, Listing.id, created_at, last_id, descending=True)
            )
        statement = statement.order_by(Listing.created_at.desc(), Listing.id.desc()).limit(limit)
        return list((await self.session.execute(statement)).scalars())
