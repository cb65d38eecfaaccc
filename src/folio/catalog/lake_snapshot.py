"""The catalogue's daily snapshot into the data lake: each shop's listings with their works, as of now.

The exporter lives on the catalogue's side because the lake (a platform service) may
not import the catalogue (shared domain, a higher tier); the catalogue writes through
``folio.lake.api`` like any other producer.

``catalog_listings`` holds one row per listing with its work's descriptive fields,
partitioned by ``snapshot_date`` and ``shop_id``. Each shop is read with its own
row-level security scope (``iter_listings``, keyset batches of short transactions: a
listing changed during the export is seen before or after the change). Each shop's day is
written with ``Lake.replace_partitions``: re-running a day replaces that shop's snapshot
of the day with a fresh one (never doubles it), and a shop with no listing left empties
its partition of the day. Works no shop lists are not in the snapshot. A snapshot is "as
of now": there is no snapshot of a past day to take (the daily flow's backfill skips it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from folio.catalog.service import iter_listings
from folio.lake.api import LakeTable

if TYPE_CHECKING:
    from folio.core.db import Database
    from folio.lake.api import Lake

__all__ = ["CatalogSnapshot", "catalog_listings_table", "snapshot_catalog_to_lake"]

SNAPSHOT_SOURCE = "catalog:snapshot"


@cache
def catalog_listings_table() -> LakeTable:
    """``catalog_listings``: every shop's listings with their work, one snapshot a day."""
    import pyarrow as pa

    return LakeTable(
        name="catalog_listings",
        schema=pa.schema(
            [
                pa.field("listing_id", pa.string(), nullable=False),
                pa.field("work_id", pa.string(), nullable=False),
                pa.field("title", pa.string(), nullable=False),
                pa.field("authors", pa.list_(pa.string())),
                pa.field("isbn13", pa.string()),
                pa.field("publisher", pa.string()),
                pa.field("year", pa.int32()),
                pa.field("work_source", pa.string(), nullable=False),
                pa.field("work_published", pa.bool_(), nullable=False),
                pa.field("condition", pa.string(), nullable=False),
                pa.field("price_minor", pa.int64(), nullable=False),
                pa.field("currency", pa.string(), nullable=False),
                pa.field("stock", pa.int32(), nullable=False),
                pa.field("listing_updated_at", pa.timestamp("us", tz="UTC"), nullable=False),
                pa.field("snapshot_at", pa.timestamp("us", tz="UTC"), nullable=False),
                pa.field("snapshot_date", pa.date32(), nullable=False),
                pa.field("shop_id", pa.string(), nullable=False),
            ]
        ),
        partition_by=("snapshot_date", "shop_id"),
        description="Each shop's listings with their work (title, authors, ISBN, price, stock), daily.",
    )


@dataclass(frozen=True)
class CatalogSnapshot:
    """What one snapshot wrote: rows per shop with listings, and per shop the rows of the day it replaced."""

    snapshot_date: dt.date
    rows_by_shop: dict[uuid.UUID, int]
    replaced_rows: dict[uuid.UUID, int]
    """Per shop, the rows an earlier snapshot of the same day held (0 for a first snapshot)."""


async def snapshot_catalog_to_lake(
    db: Database,
    lake: Lake,
    *,
    shops: Sequence[uuid.UUID],
    now: dt.datetime | None = None,
    batch_size: int = 1000,
) -> CatalogSnapshot:
    """Write each of ``shops``'s listings (with their works) to ``catalog_listings`` as of ``now``.

    ``shops`` is every shop the caller knows (identity's tenants: the catalogue does not
    list shops itself); ``now`` (UTC, default the current time) sets ``snapshot_date``.
    One replacement per shop, so a failure leaves the shops before it written and the
    rest to a re-run (which replaces them all again).
    """
    import pyarrow as pa

    moment = now or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    day = moment.astimezone(dt.UTC).date()
    table = catalog_listings_table()
    written: dict[uuid.UUID, int] = {}
    replaced: dict[uuid.UUID, int] = {}
    for shop in shops:
        records = []
        async for batch in iter_listings(db, tenant_id=shop, batch_size=batch_size):
            for item in batch:
                listing, work = item.listing, item.work
                records.append(
                    {
                        "listing_id": str(listing.id),
                        "work_id": str(work.id),
                        "title": work.title,
                        "authors": work.authors,
                        "isbn13": work.isbn13,
                        "publisher": work.publisher,
                        "year": work.year,
                        "work_source": work.source,
                        "work_published": work.published,
                        "condition": listing.condition.value,
                        "price_minor": listing.price_cents,
                        "currency": listing.currency,
                        "stock": listing.stock,
                        "listing_updated_at": listing.updated_at,
                        "snapshot_at": moment,
                        "snapshot_date": day,
                        "shop_id": str(shop),
                    }
                )
        rows = pa.Table.from_pylist(records, schema=table.schema)
        report = await asyncio.to_thread(
            lake.replace_partitions,
            table,
            rows,
            where={"snapshot_date": day, "shop_id": str(shop)},
            source=SNAPSHOT_SOURCE,
        )
        if report.rows:
            written[shop] = report.rows
        replaced[shop] = report.replaced_rows
    return CatalogSnapshot(snapshot_date=day, rows_by_shop=written, replaced_rows=replaced)
