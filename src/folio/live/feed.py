"""The live stage: a consumer of the event pipeline that turns a shop's events into metric updates.

It reads ``folio.orders``, ``folio.carts`` and ``folio.catalog`` (group ``folio.live``)
through the streaming api's ``StreamConsumer`` and, per event, records its updates with
``LiveStore.record`` (counted once per event id, published on ``folio:live:<tenant_id>``)
and publishes an order's status on ``folio:orders:<tenant_id>``:

- ``OrderPlaced``: ``orders_placed`` (today's count), ``active_carts`` (its cart is checked out);
- ``OrderPaid``: ``orders_paid`` (today's count), ``revenue`` (today's paid totals per
  currency, minor units);
- ``CartItemAdded``: ``active_carts`` (carts changed in the last 30 minutes, not checked out;
  a cart event older than its customer's last order, read after it, opens nothing);
- ``listing.changed``: ``stock_alert:<listing_id>`` when the stock is at most ``LOW_STOCK``;
  when it is above (restocked) or the listing is gone, the alert is cleared (a null value,
  out of the snapshot), which the store publishes only if an alert was raised.

Every orders event also goes to ``folio:orders:<tenant_id>`` (not counted, not kept).
A Redis outage raises ``ServiceUnavailableError``, so the consumer rewinds the batch
and tries again after a pause: nothing is skipped, and what was recorded before the
outage is not counted twice (the script marks each event id).
"""

from __future__ import annotations

import asyncio
import json
import uuid

from redis.asyncio import Redis
from redis.exceptions import RedisError

from folio.catalog import api as catalog
from folio.core.db import Database
from folio.core.errors import ServiceUnavailableError
from folio.live.messages import orders_channel
from folio.live.store import LiveStore, Update
from folio.streaming.api import Rejected, StreamRecord, Streams

__all__ = ["FEED_FAMILIES", "LOW_STOCK", "STAGE", "LiveFeed", "run_live_feed", "updates_for"]

STAGE = "live"
"""The stage's name: its consumer group is ``<prefix>live``."""
FEED_FAMILIES = ("orders", "carts", "catalog")
"""The topics the stage reads."""
LOW_STOCK = 2
"""A listing with this many copies or fewer raises a stock alert."""


def updates_for(record: StreamRecord) -> list[Update]:
    """The metric updates of an orders or carts event (a catalog event needs the listing: ``LiveFeed``)."""
    payload = record.payload
    if record.family == "orders" and record.type == "OrderPlaced":
        return [
            Update("orders_placed", "count", amount=1),
            Update("active_carts", "cart_close", field=str(payload["customer_id"])),
        ]
    if record.family == "orders" and record.type == "OrderPaid":
        return [
            Update("orders_paid", "count", amount=1),
            Update(
                "revenue", "sum", field=str(payload["currency"]).upper(), amount=int(payload["total_minor"])
            ),
        ]
    if record.family == "carts" and record.type == "CartItemAdded":
        return [Update("active_carts", "cart_open", field=str(payload["customer_id"]))]
    return []


class LiveFeed:
    """The stage's handler (a ``RecordHandler``): records each event's updates, in order."""

    def __init__(self, store: LiveStore, db: Database, *, low_stock: int = LOW_STOCK) -> None:
        """Record into ``store``; stock alerts read the listing from ``db`` (catalog's api)."""
        self.store = store
        self.db = db
        self.low_stock = low_stock

    async def __call__(self, records: list[StreamRecord]) -> list[Rejected]:
        """Record every event of the batch; nothing is refused (an event of no interest changes nothing)."""
        try:
            for record in records:
                if record.tenant_id is not None:
                    await self._record(record, record.tenant_id)
        except RedisError as exc:
            raise ServiceUnavailableError(f"live state unreachable: {exc}") from exc
        return []

    async def _record(self, record: StreamRecord, tenant_id: uuid.UUID) -> None:
        updates = updates_for(record)
        if record.family == "catalog" and record.type == "listing.changed":
            updates = await self._stock_alert(tenant_id, uuid.UUID(str(record.payload["entity_id"])))
        recorded = await self.store.record(
            tenant_id, event_id=record.event_id, at=record.occurred_at, updates=updates
        )
        if recorded is not None and record.family == "orders" and "status" in record.payload:
            status = {
                "order_id": record.payload["order_id"],
                "status": record.payload["status"],
                "version": record.payload["version"],
                "at": record.occurred_at.isoformat(),
            }
            await self.store.redis.publish(orders_channel(tenant_id), json.dumps(status))

    async def _stock_alert(self, tenant_id: uuid.UUID, listing_id: uuid.UUID) -> list[Update]:
        series = f"stock_alert:{listing_id}"
        found = await catalog.get_listings_for_search(self.db, tenant_id=tenant_id, ids=[listing_id])
        if not found or found[0].listing.stock > self.low_stock:
            return [Update(series, "clear")]
        listing = found[0]
        alert = {"listing_id": str(listing_id), "title": listing.work.title, "stock": listing.listing.stock}
        return [Update(series, "json", value=alert)]


async def run_live_feed(streams: Streams, db: Database, redis: Redis, *, stop: asyncio.Event) -> None:
    """Run the live stage on ``streams``' broker until ``stop`` is set (the ``streams`` process runs it)."""
    if not await streams.topics_ready(stop, *FEED_FAMILIES):
        return
    producer = streams.producer()
    try:
        topics = [streams.names.family(family) for family in FEED_FAMILIES]
        consumer = streams.consumer(STAGE, topics, dead_letters=producer)
        await consumer.run(LiveFeed(LiveStore(redis), db), stop=stop)
    finally:
        await producer.close()
