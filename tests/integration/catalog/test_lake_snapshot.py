"""The catalogue's snapshot into the lake, on PostgreSQL as the app role: per shop, once a day."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from folio.catalog.api import (
    ListingCreate,
    WorkCreate,
    create_listing,
    create_work,
    snapshot_catalog_to_lake,
)
from folio.core.db import Database
from folio.core.settings import Settings
from folio.lake.api import lake_for
from tests.integration.catalog.conftest import generated_isbn
from tests.support.identity import create_member
from tests.unit.lake.test_local_lake import local_settings

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 12, 4, 23, 30, tzinfo=dt.UTC)


async def test_each_shop_lands_in_its_partition_once_a_day(
    pg_database: Database, settings: Settings, tmp_path: Path
) -> None:
    """Two shops' listings land under their snapshot_date/shop_id with their works; a re-run replaces them."""
    lake = lake_for(local_settings(settings, tmp_path / "lake"))
    first = await create_member(pg_database)
    second = await create_member(pg_database)
    empty = await create_member(pg_database)
    isbn = generated_isbn()
    work = await create_work(
        pg_database,
        principal=first,
        data=WorkCreate(title="Snapshot Title", authors=["A. Writer"], isbn=isbn),
    )
    other = await create_work(pg_database, principal=second, data=WorkCreate(title="Other Shop's Work"))
    for principal, listed, price in ((first, work, 1250), (second, other, 700)):
        await create_listing(
            pg_database,
            settings=settings,
            principal=principal,
            data=ListingCreate(
                work_id=listed.id, price_cents=price, currency="EUR", stock=3, condition="good"
            ),
        )
    shops = [first.tenant_id, second.tenant_id, empty.tenant_id]

    snapshot = await snapshot_catalog_to_lake(pg_database, lake, shops=shops, now=NOW)
    again = await snapshot_catalog_to_lake(pg_database, lake, shops=shops, now=NOW + dt.timedelta(minutes=10))

    assert snapshot.rows_by_shop == {first.tenant_id: 1, second.tenant_id: 1}
    assert set(snapshot.replaced_rows.values()) == {0}
    assert again.rows_by_shop == snapshot.rows_by_shop
    assert again.replaced_rows == {first.tenant_id: 1, second.tenant_id: 1, empty.tenant_id: 0}
    manifest = await asyncio.to_thread(lake.manifest, "catalog_listings")
    assert manifest.rows == 2
    assert sorted(manifest.partitions) == sorted(
        f"snapshot_date=2026-12-04/shop_id={shop}" for shop in (first.tenant_id, second.tenant_id)
    )
    rows = await asyncio.to_thread(
        lake.query,
        "SELECT shop_id, title, authors, isbn13, price_minor, stock, condition FROM catalog_listings "
        "WHERE snapshot_date = DATE '2026-12-04' ORDER BY price_minor DESC",
    )
    assert rows.to_pylist() == [
        {
            "shop_id": str(first.tenant_id),
            "title": "Snapshot Title",
            "authors": ["A. Writer"],
            "isbn13": work.isbn13,
            "price_minor": 1250,
            "stock": 3,
            "condition": "good",
        },
        {
            "shop_id": str(second.tenant_id),
            "title": "Other Shop's Work",
            "authors": [],
            "isbn13": None,
            "price_minor": 700,
            "stock": 3,
            "condition": "good",
        },
    ]
