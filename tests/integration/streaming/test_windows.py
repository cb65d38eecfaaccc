"""The windows stage on the harness's Tansu and PostgreSQL: shuffled facts, a crash, known minute totals."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import json
import random
import uuid
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from sqlalchemy import delete, select

from folio.core.db import Database
from folio.streaming.api import EventProducer, StreamConsumer
from folio.streaming.models import AnalyticsShopMinute, StreamWatermark
from folio.streaming.window_stage import WindowStage
from tests.integration.streaming.conftest import Private

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
SHOPS = (uuid.uuid4(), uuid.uuid4())
CURRENCY = {SHOPS[0]: "EUR", SHOPS[1]: "GBP"}
PARTITIONS = 3
Fact = tuple[int, dict[str, Any], dict[str, bytes]]
"""A fact to produce: its partition, its value, its headers."""


def fact(shop: uuid.UUID, at: dt.datetime, revenue: int, *, event_type: str = "OrderPaid") -> tuple[str, Any]:
    """An ``OrderFacts`` v1 value and its headers, as the transform writes them."""
    order, event_id = uuid.uuid4(), f"outbox-{uuid.uuid4().hex}"
    value = {
        "order_id": str(order),
        "tenant_id": str(shop),
        "event_type": event_type,
        "status": "paid" if event_type == "OrderPaid" else "pending_payment",
        "currency": CURRENCY[shop],
        "minor_unit_digits": 2,
        "total_minor": revenue,
        "refunded_minor": 0,
        "net_minor": revenue,
        "revenue_minor": revenue if event_type == "OrderPaid" else 0,
        "line_count": 1,
        "item_count": 1,
        "order_version": 2,
        "occurred_at": at.isoformat(),
    }
    headers = {
        "event-id": event_id.encode(),
        "event-type": b"OrderFacts",
        "schema-version": b"1",
        "event-family": b"orders.facts",
        "tenant-id": str(shop).encode(),
        "occurred-at": at.isoformat().encode(),
    }
    return event_id, (value, headers)


def produce(bootstrap: str, topic: str, facts: list[Fact]) -> None:
    """Produce ``facts`` in order, each to its partition."""
    producer = Producer({"bootstrap.servers": bootstrap})
    for partition, value, headers in facts:
        producer.produce(
            topic, value=json.dumps(value).encode(), headers=list(headers.items()), partition=partition
        )
    assert producer.flush(10) == 0


def read_to_end(bootstrap: str, topic: str) -> list[Any]:
    """Every record of ``topic`` now (all partitions, no group)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
    try:
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(3)}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p, end in ends.items() if end])
        found: list[Any] = []
        while len(found) < sum(ends.values()):
            found += [message for message in consumer.consume(100, 1.0) if message.error() is None]
        return found
    finally:
        consumer.close()


def committed_offsets(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    """What ``group`` committed on each partition of ``topic``."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        asked = [TopicPartition(topic, partition) for partition in range(PARTITIONS)]
        return {tp.partition: tp.offset for tp in consumer.committed(asked, timeout=10)}
    finally:
        consumer.close()


async def run_until(consumer: StreamConsumer, stage: WindowStage, handled: int) -> None:
    """Batches until ``handled`` records went through the stage (or 40 rounds)."""
    total = 0
    for _ in range(40):
        total += (await consumer.run_batch(stage, position=stage)).handled
        if total >= handled:
            return
    pytest.fail(f"the windows stage handled {total} records of {handled}")


async def test_shuffled_facts_across_a_crash_give_the_known_minute_totals_and_one_late_event(  # noqa: PLR0915 - one journey
    pg_database: Database, private: Private
) -> None:
    """Generated, shuffled within the bound over 3 partitions; the stage dies with minute 2 open.

    Its commits stop at minute 2's first records, so the new member rebuilds it; the
    duplicate counts once, the fact ten minutes late goes to orders.late, and every row is
    final with the totals of a plain group-by.
    """
    streams = private.streams
    settings = streams.settings.model_copy(
        update={
            "window_out_of_orderness_s": 5.0,
            "window_allowed_lateness_s": 30.0,
            "window_idle_timeout_s": 60.0,
        }
    )
    await streams.ensure_topics("orders.facts", "orders.windows", "orders.late")
    rng = random.Random(13)  # noqa: S311 - generated test data, not secrets
    paid: dict[str, tuple[uuid.UUID, int, int]] = {}  # event id -> shop, minute, revenue
    first: list[Fact] = []
    minute_2: list[Fact] = []
    minute_2_first: dict[int, int] = {}  # partition -> offset of its first minute-2 fact
    for partition in range(PARTITIONS):
        # Seconds 5..50 of each minute, so a jitter under the 5 s bound never crosses a minute.
        events = [(minute, rng.uniform(5, 50)) for minute in range(3) for _ in range(4)]
        events += [(2, 50.0)]  # minute 1 will be final: the watermark passes 2:45
        shuffled = sorted(events, key=lambda e: e[0] * 60 + e[1] + rng.uniform(0, 5))
        for minute, at_s in shuffled:
            shop = rng.choice(SHOPS)
            event_id, (value, headers) = fact(
                shop, T0 + dt.timedelta(minutes=minute, seconds=at_s), rng.randint(100, 9_999)
            )
            paid[event_id] = (shop, minute, value["revenue_minor"])
            if minute == 2:
                minute_2_first.setdefault(partition, sum(1 for f in first if f[0] == partition))
                minute_2.append((partition, value, headers))
            first.append((partition, value, headers))
    produce(streams.bootstrap_servers, streams.names.facts, first)

    producer = streams.producer()
    consumers: list[StreamConsumer] = []
    group = streams.group("windows")

    def member(producer: EventProducer) -> tuple[StreamConsumer, WindowStage]:
        consumer = streams.consumer("windows", [streams.names.facts], dead_letters=producer)
        consumers.append(consumer)
        stage = WindowStage(
            pg_database,
            producer,
            settings=settings,
            group=group,
            names=streams.names,
            assigned=consumer.assigned,
        )
        return consumer, stage

    try:
        consumer, stage = member(producer)
        await run_until(consumer, stage, len(first))
        assert committed_offsets(streams.bootstrap_servers, group, streams.names.facts) == minute_2_first
        await consumer.close()  # the member dies (minute 2 still open); its windows in memory go with it

        too_late_id, too_late = fact(SHOPS[0], T0 - dt.timedelta(minutes=10), 555)
        closing = T0 + dt.timedelta(minutes=10)
        closers = [(p, *fact(SHOPS[0], closing, 0, event_type="OrderPlaced")[1]) for p in range(PARTITIONS)]
        second: list[Fact] = [minute_2[0], (1, *too_late), *closers]  # a duplicate, a late fact, closers
        produce(streams.bootstrap_servers, streams.names.facts, second)

        consumer, stage = member(producer)
        replayed = sum(len([f for f in first if f[0] == p]) - offset for p, offset in minute_2_first.items())
        await run_until(consumer, stage, replayed + len(second))

        expected: dict[tuple[uuid.UUID, dt.datetime], tuple[int, int]] = collections.defaultdict(
            lambda: (0, 0)
        )
        for shop, minute, revenue in paid.values():
            start = T0 + dt.timedelta(minutes=minute)
            expected[(shop, start)] = (expected[(shop, start)][0] + revenue, expected[(shop, start)][1] + 1)

        async def rows(session: Any) -> dict[tuple[uuid.UUID, dt.datetime], tuple[int, int, str, bool]]:
            query = select(AnalyticsShopMinute).where(AnalyticsShopMinute.tenant_id.in_(SHOPS))
            return {
                (row.tenant_id, row.window_start): (row.revenue_minor, row.orders, row.currency, row.final)
                for row in (await session.scalars(query)).all()
            }

        assert await pg_database.run(rows) == {
            key: (revenue, orders, CURRENCY[key[0]], True) for key, (revenue, orders) in expected.items()
        }
        [late] = read_to_end(streams.bootstrap_servers, streams.names.late)
        headers = dict(late.headers())
        assert headers["event-id"] == too_late_id.encode()
        assert b"closed" in headers["late-reason"]
        assert int(headers["late-behind-ms"]) >= 12 * 60_000  # ten minutes before T0, watermark past 2:45
        emitted = read_to_end(streams.bootstrap_servers, streams.names.windows)
        finals = {
            (uuid.UUID(value["tenant_id"]), dt.datetime.fromisoformat(value["window_start"])): (
                value["revenue_minor"],
                value["orders"],
            )
            for value in (json.loads(message.value()) for message in emitted)
            if value["final"]
        }
        assert finals == dict(expected)
    finally:
        await asyncio.gather(*(consumer.close() for consumer in consumers), producer.close())
        await pg_database.run(
            lambda session: session.execute(
                delete(AnalyticsShopMinute).where(AnalyticsShopMinute.tenant_id.in_(SHOPS))
            )
        )
        await pg_database.run(
            lambda session: session.execute(
                delete(StreamWatermark).where(StreamWatermark.consumer_group == group)
            )
        )
