"""The pipeline on the harness's Tansu and PostgreSQL: outbox, relay, transform, sink; bad records aside."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from sqlalchemy import delete, func, select

from folio.core.db import Database
from folio.core.outbox import EventDraft, add_outbox_events, list_poisoned
from folio.streaming.api import AnalyticsOrderEvent, AnalyticsSink, BatchReport, StreamRecord, Transform
from tests.integration.streaming.conftest import Private, order_payload

pytestmark = pytest.mark.integration

SHOP = uuid.uuid4()


def read_topic(bootstrap: str, topic: str, count: int) -> list[Any]:
    """``count`` records of ``topic`` from the start (all partitions, no group), or fewer after 30 s."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING) for partition in partitions])
    found: list[Any] = []
    try:
        for _ in range(30):
            found += [message for message in consumer.consume(count, 1.0) if message.error() is None]
            if len(found) >= count:
                break
    finally:
        consumer.close()
    return found


async def rounds(
    run: Callable[[], Awaitable[BatchReport]], *, until: Callable[[int, int], bool]
) -> tuple[int, int]:
    """Run batches until ``until(handled, dead_lettered)`` or 40 rounds; the totals."""
    handled = dead = 0
    for _ in range(40):
        report = await run()
        handled, dead = handled + report.handled, dead + report.dead_lettered
        if until(handled, dead):
            break
    return handled, dead


async def test_outbox_to_analytics_rows_with_bad_events_set_aside_and_dead_lettered(  # noqa: PLR0915 - one journey
    pg_database: Database, private: Private
) -> None:
    """4 good events become 4 rows, once each; a schema-invalid event is poisoned, garbage dead-lettered."""
    streams, family = private.streams, private.family
    first, second = uuid.uuid4(), uuid.uuid4()
    drafts = [
        EventDraft(
            topic=family,
            key=str(first),
            type="OrderPlaced",
            payload=order_payload(first, "pending_payment"),
            tenant_id=SHOP,
        ),
        EventDraft(
            topic=family,
            key=str(second),
            type="OrderPlaced",
            payload=order_payload(second, "pending_payment"),
            tenant_id=SHOP,
        ),
        EventDraft(
            topic=family,
            key=str(first),
            type="OrderPaid",
            payload=order_payload(first, "paid", version=2),
            tenant_id=SHOP,
        ),
        EventDraft(
            topic=family,
            key=str(second),
            type="OrderPaid",
            payload={**order_payload(second, "paid"), "total_minor": "19.99"},
            tenant_id=SHOP,
        ),
        EventDraft(
            topic=family,
            key=str(second),
            type="OrderCancelled",
            payload=order_payload(second, "cancelled", version=3),
            tenant_id=SHOP,
        ),
    ]
    relay = streams.relay(pg_database, consumer=private.relay_consumer)
    await relay.subscribe()
    await pg_database.run(lambda session: add_outbox_events(session, drafts))

    report = await relay.run_once()
    assert (report.claimed, report.published, report.failed) == (5, 4, 1)
    [poisoned] = await list_poisoned(pg_database, consumer=private.relay_consumer)
    assert poisoned.type == "OrderPaid"
    assert poisoned.last_error is not None
    assert "total_minor" in poisoned.last_error

    source = streams.names.family(family)
    published = read_topic(streams.bootstrap_servers, source, 4)
    assert len(published) == 4
    by_key: dict[bytes, set[int]] = {}
    for message in published:
        by_key.setdefault(message.key(), set()).add(message.partition())
        headers = dict(message.headers())
        assert headers["tenant-id"] == str(SHOP).encode()
        assert headers["event-id"].startswith(b"outbox-")
    assert set(by_key) == {f"{SHOP}:{first}".encode(), f"{SHOP}:{second}".encode()}
    assert all(len(partitions) == 1 for partitions in by_key.values())  # one aggregate, one partition

    garbage = Producer({"bootstrap.servers": streams.bootstrap_servers})
    garbage.produce(source, key=b"x", value=b"{not json", headers=[("event-id", b"junk")])
    garbage.flush(10)

    producer = streams.producer()
    await streams.ensure_topics(family, "orders.facts")
    transform = streams.consumer("transform", [source], dead_letters=producer)
    handler = Transform(producer, streams.schemas, output_topic=streams.names.facts, source_family=family)
    sink_consumer = streams.consumer("sink", [streams.names.facts], dead_letters=producer)
    seen: list[StreamRecord] = []
    sink = AnalyticsSink(pg_database)

    async def sink_and_keep(records: list[StreamRecord]) -> list[Any]:
        seen.extend(records)
        return await sink(records)

    event_ids: list[str] = []
    try:
        assert await rounds(lambda: transform.run_batch(handler), until=lambda h, d: h + d >= 5) == (4, 1)
        assert await rounds(lambda: sink_consumer.run_batch(sink_and_keep), until=lambda h, _: h >= 4) == (
            4,
            0,
        )
        event_ids = [record.event_id for record in seen]
        await sink(seen)  # the same batch again, as after a crash before the commit

        async def rows(session: Any) -> list[tuple[str, str, int, int]]:
            query = (
                select(
                    AnalyticsOrderEvent.event_type,
                    AnalyticsOrderEvent.currency,
                    AnalyticsOrderEvent.item_count,
                    func.count(),
                )
                .where(AnalyticsOrderEvent.event_id.in_(event_ids))
                .group_by(
                    AnalyticsOrderEvent.event_id,
                    AnalyticsOrderEvent.event_type,
                    AnalyticsOrderEvent.currency,
                    AnalyticsOrderEvent.item_count,
                )
            )
            return sorted(
                (str(a), str(b), int(c), int(n)) for a, b, c, n in (await session.execute(query)).all()
            )

        assert await pg_database.run(rows) == [
            ("OrderCancelled", "EUR", 1, 1),
            ("OrderPaid", "EUR", 1, 1),
            ("OrderPlaced", "EUR", 1, 1),
            ("OrderPlaced", "EUR", 1, 1),
        ]
        [dead] = read_topic(streams.bootstrap_servers, streams.names.dead_letters, 1)
        reasons = dict(dead.headers())
        assert dead.value() == b"{not json"
        assert b"malformed record" in reasons["dlq-reason"]
        assert reasons["dlq-topic"] == source.encode()
    finally:
        await asyncio.gather(
            transform.close(), sink_consumer.close(), producer.close(), relay.producer.close()
        )
        if event_ids:
            await pg_database.run(
                lambda session: session.execute(
                    delete(AnalyticsOrderEvent).where(AnalyticsOrderEvent.event_id.in_(event_ids))
                )
            )
