"""Fixtures for the orders integration tests: a shop with a listing, and its people.

As in tests/integration/tasks: ``pg_database`` uses the primary only (a read right
after a write must not race the replica's replay).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from folio.catalog.api import ListingCreate, ListingRead, WorkCreate, create_listing, create_work
from folio.core.db import Database, open_database
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from tests.support.identity import create_member


@pytest.fixture
async def pg_database(migrated_postgres: Settings) -> AsyncIterator[Database]:
    """A ``Database`` on the migrated PostgreSQL primary, as the application role (RLS applies)."""
    async with open_database(migrated_postgres.database, migrated_postgres.database_url) as database:
        yield database


@dataclass(frozen=True)
class Shop:
    """A shop's owner, one staff member and one customer."""

    owner: Principal
    staff: Principal
    customer: Principal
    settings: Settings

    @property
    def tenant_id(self) -> uuid.UUID:
        """The shop's id."""
        return self.owner.tenant_id


async def new_shop(db: Database, settings: Settings) -> Shop:
    """A new shop with its owner, a staff member and a customer."""
    owner = await create_member(db)
    return Shop(
        settings=settings,
        owner=owner,
        staff=await create_member(db, role=Role.STAFF, tenant_id=owner.tenant_id),
        customer=await create_member(db, role=Role.CUSTOMER, tenant_id=owner.tenant_id),
    )


async def new_listing(
    db: Database,
    shop: Shop,
    *,
    price: int = 1250,
    stock: int = 5,
    currency: str = "EUR",
    title: str = "Hamlet",
) -> ListingRead:
    """A listing of a new (private) work in ``shop``."""
    work = await create_work(
        db, principal=shop.staff, data=WorkCreate(title=title, authors=["William Shakespeare"])
    )
    return await create_listing(
        db,
        settings=shop.settings,
        principal=shop.staff,
        data=ListingCreate(
            work_id=work.id, price_cents=price, currency=currency, stock=stock, condition="good"
        ),
    )


@pytest.fixture
async def shop(any_database: Database, settings: Settings) -> Shop:
    """A new shop on the database under test (both backends)."""
    return await new_shop(any_database, settings)
