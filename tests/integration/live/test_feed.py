"""The live stage on the harness's broker: what a shop's orders and cart events publish on its channels."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from folio.catalog.api import ListingUpdate, update_listing
from folio.core.db import Database
from folio.core.settings import Settings
from folio.live.api import FEED_FAMILIES, LiveFeed, LiveStore, live_channel, orders_channel, run_live_feed
from folio.streaming.api import EventSchemas, OutgoingRecord, StreamRecord, Streams
from folio.streaming.envelope import envelope_headers
from tests.integration.live.conftest import drop_live_state
from tests.integration.orders.conftest import new_listing, new_shop

pytestmark = pytest.mark.integration

AT = dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC)


def record(
    streams: Streams, shop: uuid.UUID, *, family: str, kind: str, payload: dict[str, Any], event_id: str
) -> OutgoingRecord:
    """The record the relay would produce for one outbox event of ``shop``."""
    return OutgoingRecord(
        topic=streams.names.family(family),
        key=f"{shop}:{payload.get('order_id', payload.get('customer_id'))}",
        value=json.dumps(payload).encode(),
        headers=envelope_headers(
            event_id=event_id,
            family=family,
            event_type=kind,
            schema_version=1,
            tenant_id=shop,
            occurred_at=AT,
            correlation_id=None,
            trace_id=None,
        ),
        event_id=event_id,
    )


def by_series_final(updates: list[dict[str, Any]]) -> dict[str, Any]:
    """Each series' last value (highest ``seq``)."""
    return {m["series"]: m["value"] for m in sorted(updates, key=lambda m: m["seq"])}


async def test_an_order_paid_publishes_the_shops_counts_revenue_and_status(
    settings: Settings,
    require_service: Callable[[str], None],
    pg_database: Database,
    redis: Redis,
    shops: Callable[[], uuid.UUID],
) -> None:
    """Cart, placed, paid, the paid event again: one order placed and paid, 14.90 EUR once, two statuses."""
    require_service("kafka")
    shop, customer, order = shops(), str(uuid.uuid4()), str(uuid.uuid4())
    config = settings.streaming.model_copy(
        update={"topic_prefix": f"test-live-{uuid.uuid4().hex[:8]}.", "partitions": 1}
    )
    streams = Streams(
        config, bootstrap_servers=settings.services.kafka.bootstrap, schemas=EventSchemas.load()
    )
    await streams.ensure_topics(*FEED_FAMILIES)
    line = {"listing_id": str(uuid.uuid4()), "work_id": str(uuid.uuid4()), "quantity": 1}
    placed = {"order_id": order, "status": "pending_payment", "customer_id": customer, "currency": "eur",
              "total_minor": 1490, "refunded_minor": 0, "lines": [line], "version": 1}  # fmt: skip
    paid = placed | {"status": "paid", "version": 2}
    added = {
        "customer_id": customer,
        "listing_id": line["listing_id"],
        "work_id": line["work_id"],
        "quantity": 1,
    }
    pubsub = redis.pubsub()
    await pubsub.subscribe(live_channel(shop), orders_channel(shop))
    producer = streams.producer()
    try:
        outcomes = await producer.send(
            [
                record(
                    streams, shop, family="carts", kind="CartItemAdded", payload=added, event_id="outbox-c1"
                ),
                record(
                    streams, shop, family="orders", kind="OrderPlaced", payload=placed, event_id="outbox-o1"
                ),
                record(streams, shop, family="orders", kind="OrderPaid", payload=paid, event_id="outbox-o2"),
                record(
                    streams, shop, family="orders", kind="OrderPaid", payload=paid, event_id="outbox-o2"
                ),  # a redelivery
            ]
        )
        assert outcomes == [None] * 4
    finally:
        await producer.close()
    stop = asyncio.Event()
    feed = asyncio.create_task(run_live_feed(streams, pg_database, redis, stop=stop))
    received: dict[str, list[dict[str, Any]]] = {live_channel(shop): [], orders_channel(shop): []}
    try:
        while len(received[live_channel(shop)]) < 5 or len(received[orders_channel(shop)]) < 2:
            message = await asyncio.wait_for(
                pubsub.get_message(ignore_subscribe_messages=True, timeout=1), 60
            )
            if message is not None:
                received[message["channel"].decode()].append(json.loads(message["data"]))
    finally:
        stop.set()
        await feed
        await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
    updates = received[live_channel(shop)]
    assert sorted(m["seq"] for m in updates) == [1, 2, 3, 4, 5]
    assert {m["at"] for m in updates} == {"2026-12-04T09:30:00Z"}
    assert by_series_final(updates) == {
        "orders_placed": 1,
        "orders_paid": 1,
        "revenue": {"EUR": 1490},  # the redelivered OrderPaid counted once
        "active_carts": 0,  # read before or after the order (two topics), the checked-out cart is not active
    }
    assert [(m["order_id"], m["status"], m["version"]) for m in received[orders_channel(shop)]] == [
        (order, "pending_payment", 1),
        (order, "paid", 2),
    ]


def listing_changed(tenant_id: uuid.UUID, listing_id: uuid.UUID) -> StreamRecord:
    """The catalogue's ``listing.changed`` event of ``listing_id``, as the stage reads it."""
    return StreamRecord(
        event_id=f"outbox-{uuid.uuid4().hex}",
        family="catalog",
        type="listing.changed",
        schema_version=1,
        tenant_id=tenant_id,
        occurred_at=AT,
        correlation_id=None,
        trace_id=None,
        key=str(listing_id),
        payload={"entity_id": str(listing_id)},
        topic="folio.catalog",
        partition=0,
        offset=0,
    )


async def test_a_restocked_listing_clears_its_stock_alert(
    migrated_postgres: Settings, pg_database: Database, redis: Redis, store: LiveStore
) -> None:
    """Well stocked: no message; low: an alert; restocked: the alert cleared (null), out of the snapshot."""
    shop = await new_shop(pg_database, migrated_postgres)
    listing = await new_listing(pg_database, shop, stock=5, title="Ulysses")
    series = f"stock_alert:{listing.id}"
    feed = LiveFeed(store, pg_database)
    try:
        await feed([listing_changed(shop.tenant_id, listing.id)])
        assert (await store.snapshot(shop.tenant_id)).seq == 0  # nothing to clear: no message, no seq
        for stock in (1, 4):
            await update_listing(
                pg_database, principal=shop.staff, listing_id=listing.id, data=ListingUpdate(stock=stock)
            )
            await feed([listing_changed(shop.tenant_id, listing.id)])
        history = (await store.backlog(shop.tenant_id, 0)).messages
        assert [(json.loads(m.text)["series"], json.loads(m.text)["value"]) for m in history] == [
            (series, {"listing_id": str(listing.id), "title": "Ulysses", "stock": 1}),
            (series, None),
        ]
        snapshot = await store.snapshot(shop.tenant_id)
        assert (snapshot.seq, snapshot.messages) == (2, ())
    finally:
        await drop_live_state(redis, shop.tenant_id)
