"""GraphQL dataloaders: 50 orders with their lines, listings and works, batched vs naive resolvers.

One shop (generated) holds ``ORDERS`` orders of ``LINES`` lines each, over ``LINES``
listings of as many works, on the services' PostgreSQL. The same query (``QUERY``: the
orders, each line's listing and work) runs through the gateway's composed schema in
process, ``REPEATS`` times per side, sides interleaved:

- Folio: the request's dataloaders batch every listing and every work of the page into
  one query each, and a key is loaded once per request;
- naive: the same resolvers with loaders that load one key per call and keep nothing
  (``GraphQLContext(batching=False)``), which is what resolvers calling the service per
  parent cost.

Reported per side: the SQL statements one query runs (counted by a SQLAlchemy event
listener) in the label, and the p50/p99 of the query's latency. The ratio is the
naive p99 over Folio's.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from benchmarks.harness import BenchResult, Measurement
from benchmarks.seeding import register_bench_shop
from folio.catalog.api import ListingCreate, WorkCreate, create_listing, create_work
from folio.core.db import Database, open_database
from folio.core.migrations import upgrade
from folio.core.security import Principal
from folio.core.settings import Settings, load_settings
from folio.core.tenancy import tenant_scope

NAME = "graphql_dataloaders"
FOLIO_ENV = {"FOLIO_DATABASE_BACKEND": "postgres", "FOLIO_LOGGING_LEVEL": "WARNING"}
ORDERS = 50
LINES = 3
REPEATS = int(os.environ.get("FOLIO_BENCH_REPEATS", "30"))

QUERY = """
query Orders($limit: Int!) {
  orders(limit: $limit) {
    data {
      id status totalMinor
      lines {
        title quantity
        listing { id priceCents stock work { id title } }
        work { title authors }
      }
    }
  }
}
"""
"""The 50-orders query of the test and the benchmark: every line's listing and work."""


@contextmanager
def counting_statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements ``db``'s primary runs inside the block, appended as they run."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = db.primary.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def seed_orders(db: Database, settings: Settings, staff: Principal, *, orders: int, lines: int) -> None:
    """``orders`` orders of ``staff``'s shop, each with one line per listing of ``lines`` new listings."""
    from folio.orders.models import (
        Order,
        OrderLine,
    )  # the orders' own table: seeded in one unit, not 50 checkouts

    listings = []
    for index in range(lines):
        work = await create_work(
            db,
            principal=staff,
            data=WorkCreate(title=f"Bench work {index} (generated)", authors=["Folio Bench"]),
        )
        listings.append(
            await create_listing(
                db,
                settings=settings,
                principal=staff,
                data=ListingCreate(work_id=work.id, price_cents=500 + index, currency="EUR", stock=1000),
            )
        )

    async def insert(session: AsyncSession) -> None:
        for number in range(orders):
            session.add(
                Order(
                    tenant_id=staff.tenant_id,
                    customer_id=staff.user_id,
                    placed_by=staff.actor_id,
                    idempotency_key=f"bench-{uuid.uuid4().hex}",
                    status="paid",
                    currency="EUR",
                    total_minor=sum(listing.price_cents for listing in listings),
                    stock_held=False,
                    lines=[
                        OrderLine(
                            tenant_id=staff.tenant_id,
                            position=position,
                            listing_id=listing.id,
                            work_id=listing.work_id,
                            title=f"{listing.title} #{number}",
                            quantity=1,
                            unit_price_minor=listing.price_cents,
                            currency="EUR",
                        )
                        for position, listing in enumerate(listings)
                    ],
                )
            )

    with tenant_scope(staff.tenant_id):
        await db.run(insert)


async def _measure(settings: Settings) -> tuple[Measurement, Measurement]:
    from folio.bootstrap import build_platform
    from folio.entrypoints.gateway.graphql import gateway_schema
    from folio.graphqlkit import Channels, GraphQLContext

    composed = gateway_schema()
    async with open_database(settings.database, settings.database_url) as db:
        shop = await register_bench_shop(db, settings)
        await seed_orders(db, settings, shop.owner, orders=ORDERS, lines=LINES)
        platform = build_platform(settings, database=db)
        waits: dict[bool, list[float]] = {True: [], False: []}
        statements: dict[bool, int] = {}
        try:
            # Round 0 warms both sides up (connections, the schema's first run) and is not counted.
            for round_ in range(REPEATS + 1):
                for batching in (True, False):
                    context = GraphQLContext(
                        platform=platform,
                        loaders=composed.loaders,
                        principal=shop.owner,
                        channels=Channels(None),
                        batching=batching,
                    )
                    with counting_statements(db) as ran:
                        started = time.perf_counter()
                        result = await composed.schema.execute(
                            QUERY, variable_values={"limit": ORDERS}, context_value=context
                        )
                        if round_:
                            waits[batching].append(time.perf_counter() - started)
                    if result.errors:
                        raise RuntimeError(f"the query failed: {result.errors}")
                    statements[batching] = len(ran)
        finally:
            await platform.aclose()

    def measurement(batching: bool) -> Measurement:
        label = "dataloaders" if batching else "naive resolvers"
        seconds = sum(waits[batching])
        ordered = sorted(waits[batching])
        return Measurement(
            label=f"{label} ({statements[batching]} SQL statements per query)",
            requests=REPEATS,
            seconds=seconds,
            rps=REPEATS / seconds,
            p50_ms=statistics.median(ordered) * 1000,
            p99_ms=ordered[min(int(0.99 * len(ordered)), len(ordered) - 1)] * 1000,
            errors=0,
        )

    return measurement(True), measurement(False)  # noqa: FBT003 - the side's key


def run() -> list[BenchResult]:
    """Dataloaders beside naive resolvers: one line, naive p99 over Folio's."""
    os.environ.update(FOLIO_ENV)
    settings = load_settings()
    upgrade(settings.database_migration_url)
    folio, naive = asyncio.run(_measure(settings))
    return [
        BenchResult(
            name=NAME,
            description=(__doc__ or NAME).splitlines()[0],
            folio=folio,
            peer=naive,
            ratio_label="naive/dataloaders p99",
            ratio=naive.p99_ms / folio.p99_ms,
            parameters={
                "orders": ORDERS,
                "lines_per_order": LINES,
                "repeats": REPEATS,
                "query": " ".join(QUERY.split()),
                "figures": "in process (schema.execute); statements from a before_cursor_execute listener",
            },
        )
    ]
