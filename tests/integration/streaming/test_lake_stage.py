"""The lake stage on the real broker: outbox -> Kafka -> the lake's order tables, read back with DuckDB."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from folio.core.db import Database
from folio.core.objectstore import FileSystemObjectStore
from folio.core.settings import Settings
from folio.lake.api import Lake
from folio.streaming.api import Streams
from tests.integration.streaming.conftest import Private, publish_orders

pytestmark = pytest.mark.integration

ORDERS = 15
LANDS_WITHIN_S = 60.0


def _count(lake: Lake, shop: uuid.UUID) -> int:
    if "order_events" not in lake.tables():
        return 0
    counted = lake.query("SELECT count(*) AS n FROM order_events WHERE shop_id = ?", [str(shop)])
    return int(counted.column("n")[0].as_py())


async def test_placed_and_paid_orders_land_in_the_lake_once_each(
    pg_database: Database, private: Private, settings: Settings, tmp_path: Path
) -> None:
    """15 orders placed and paid reach order_events (30 rows, once each) and order_lines through Kafka."""
    root = tmp_path / "lake"
    lake = Lake(FileSystemObjectStore(root), config=settings.lake, location=str(root), local_root=root)
    base = private.streams
    streams = Streams(
        base.settings.model_copy(update={"lake_flush_interval_s": 0.5}),
        bootstrap_servers=base.bootstrap_servers,
        schemas=base.schemas,
        source_family=private.family,
        relay_consumer=private.relay_consumer,
        lake_families=(private.family,),
    )
    shop = uuid.uuid4()
    relay = streams.relay(pg_database)
    await relay.subscribe()
    await publish_orders(pg_database, private.family, shop, ORDERS)
    report = await relay.run_once()
    assert report.published == 2 * ORDERS

    stop = asyncio.Event()
    stage = asyncio.create_task(streams.run_stage("lake", pg_database, stop=stop, lake=lake))
    deadline = time.monotonic() + LANDS_WITHIN_S
    try:
        while await asyncio.to_thread(_count, lake, shop) < 2 * ORDERS and time.monotonic() < deadline:
            assert not stage.done(), stage
            await asyncio.sleep(0.5)
    finally:
        stop.set()
        await stage

    summary = await asyncio.to_thread(
        lake.query,
        "SELECT count(*) AS events, count(DISTINCT event_id) AS distinct_events, "
        "count(DISTINCT order_id) AS orders FROM order_events WHERE shop_id = ?",
        [str(shop)],
    )
    assert summary.to_pylist() == [{"events": 2 * ORDERS, "distinct_events": 2 * ORDERS, "orders": ORDERS}]
    lines = await asyncio.to_thread(
        lake.query, "SELECT count(*) AS n FROM order_lines WHERE shop_id = ?", [str(shop)]
    )
    assert lines.column("n").to_pylist() == [ORDERS]  # one line per placed order
    paid = await asyncio.to_thread(
        lake.query, "SELECT sum(orders_paid) AS n FROM revenue_by_shop_day WHERE shop_id = ?", [str(shop)]
    )
    assert paid.column("n").to_pylist() == [ORDERS]
