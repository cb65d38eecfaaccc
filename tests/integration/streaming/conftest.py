"""Fixtures of the Kafka pipeline's tests: a private topic prefix and event family on the harness's broker.

``own_broker`` is a Tansu of the test's own, for the tests that stop it or need it configured
differently; the suite's broker is never restarted.
"""

from __future__ import annotations

import collections
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import Database
from folio.core.outbox import EventDraft, add_outbox_events
from folio.core.settings import Settings
from folio.ops.services.kafka import KafkaService
from folio.ops.services.object_store import s3_client
from folio.streaming.api import AnalyticsOrderEvent, EventSchemas, SchemaKey, Streams
from folio.streaming.settings import StreamingSettings
from tests.conftest import free_port


@dataclass(frozen=True)
class Private:
    """A test's own pipeline: topics under its prefix, its outbox family and consumer names."""

    streams: Streams
    family: str
    relay_consumer: str


@pytest.fixture
def private(settings: Settings, require_service: Callable[[str], None]) -> Private:
    """Streams on the harness's Kafka under a fresh prefix; an outbox family ``t<hex>`` checked as ``orders``.

    The family is the test's own, so no other test's events reach its relay, and its
    subscription, left behind, never receives another event.
    """
    require_service("kafka")
    tag = uuid.uuid4().hex[:8]
    family = f"t{tag}"
    real = EventSchemas.load()
    documents = {
        SchemaKey(family, key.type, key.version): doc
        for key, doc in real.documents.items()
        if key.topic == "orders"
    }
    documents |= {key: doc for key, doc in real.documents.items() if key.topic == "orders.facts"}
    config = settings.streaming.model_copy(
        update={
            "topic_prefix": f"test-{tag}.",
            "relay_topics": [family],
            "partitions": 3,
            "delivery_timeout_s": 10.0,
        }
    )
    relay_consumer = f"kafka-relay-{tag}"
    streams = private_streams(config, settings.services.kafka.bootstrap, documents, family, relay_consumer)
    return Private(streams, family, relay_consumer)


def private_streams(
    config: StreamingSettings,
    bootstrap: str,
    documents: dict[SchemaKey, Any],
    family: str,
    relay_consumer: str,
) -> Streams:
    """Streams relaying ``family`` as outbox consumer ``relay_consumer``, its transform reading it."""
    return Streams(
        config,
        bootstrap_servers=bootstrap,
        schemas=EventSchemas(documents),
        source_family=family,
        relay_consumer=relay_consumer,
    )


def order_payload(order_id: uuid.UUID, status: str, *, total: int = 1999, version: int = 1) -> dict[str, Any]:
    """An orders payload as ``folio.orders.events`` writes it."""
    return {
        "order_id": str(order_id),
        "status": status,
        "customer_id": None,
        "currency": "eur",
        "total_minor": total,
        "refunded_minor": 0,
        "lines": [{"listing_id": str(uuid.uuid4()), "work_id": str(uuid.uuid4()), "quantity": 1}],
        "version": version,
    }


Row = tuple[str, str, int]
"""What identifies one orders event in ``analytics_order_events``: order id, type, order version."""


async def publish_orders(db: Database, family: str, shop: uuid.UUID, orders: int) -> set[Row]:
    """``orders`` orders of ``shop``, each placed then paid, in ``family``'s outbox; the rows expected."""
    drafts: list[EventDraft] = []
    expected: set[Row] = set()
    for _ in range(orders):
        order = uuid.uuid4()
        for kind, status, version in (("OrderPlaced", "pending_payment", 1), ("OrderPaid", "paid", 2)):
            payload = order_payload(order, status, version=version)
            drafts.append(
                EventDraft(topic=family, key=str(order), type=kind, payload=payload, tenant_id=shop)
            )
            expected.add((str(order), kind, version))
    await db.run(lambda session: add_outbox_events(session, drafts))
    return expected


async def shop_rows(db: Database, shop: uuid.UUID) -> collections.Counter[Row]:
    """How many rows ``analytics_order_events`` holds for each orders event of ``shop``."""
    query = select(
        AnalyticsOrderEvent.order_id, AnalyticsOrderEvent.event_type, AnalyticsOrderEvent.order_version
    ).where(AnalyticsOrderEvent.tenant_id == shop)

    async def work(session: AsyncSession) -> collections.Counter[Row]:
        rows = (await session.execute(query)).all()
        return collections.Counter((str(order), str(kind), int(version)) for order, kind, version in rows)

    return await db.run(work)


async def lost_and_duplicated(db: Database, shop: uuid.UUID, expected: set[Row]) -> tuple[int, int]:
    """Events of ``expected`` with no row, and rows beyond one per event (or of no expected event)."""
    found = await shop_rows(db, shop)
    lost = len(expected - set(found))
    duplicated = sum(count - 1 for count in found.values()) + sum(
        count for row, count in found.items() if row not in expected
    )
    return lost, duplicated


async def delete_shop_rows(db: Database, shop: uuid.UUID) -> None:
    """Remove a test shop's analytics rows (the table is shared with the platform's sink)."""
    await db.run(
        lambda session: session.execute(
            delete(AnalyticsOrderEvent).where(AnalyticsOrderEvent.tenant_id == shop)
        )
    )


class OwnBroker:
    """A Tansu of the test's own, started from the harness's service spec on a free port and its own bucket.

    The suite's broker is never stopped: other tests use it.
    """

    def __init__(self, settings: Settings, home: Path) -> None:
        tag = uuid.uuid4().hex[:8]
        kafka = settings.services.kafka.model_copy(
            update={"port": free_port(), "bucket": f"test-kafka-{tag}", "bootstrap_servers": None}
        )
        services = settings.services.model_copy(update={"kafka": kafka, "data_dir": home})
        self.settings = settings.model_copy(update={"services": services})
        (self.spec,) = KafkaService(self.settings).processes()
        self.bootstrap = kafka.bootstrap
        self.log = home / "tansu.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the broker (its log, in the bucket, kept from any previous run) and wait until it answers."""
        if self.spec.prepare is not None:
            self.spec.prepare()
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                list(self.spec.argv),
                env={**os.environ, **self.spec.env},
                cwd=self.spec.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while (problem := self.spec.probe()) is not None:
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the test's broker did not start ({problem}):\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would."""
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait(timeout=10)

    def drop_bucket(self) -> None:
        """Delete the broker's bucket and everything in it."""
        store = self.settings.services.object_store
        client = s3_client(store)
        bucket = self.settings.services.kafka.bucket
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=bucket, Delete={"Objects": keys})  # type: ignore[typeddict-item]
        client.delete_bucket(Bucket=bucket)


@pytest.fixture
def own_broker(
    settings: Settings, tmp_path: Path, require_service: Callable[[str], None]
) -> Iterator[OwnBroker]:
    """A started ``OwnBroker``; killed and its bucket dropped afterwards."""
    require_service("object_store")
    broker = OwnBroker(settings, tmp_path)
    broker.start()
    yield broker
    broker.kill()
    broker.drop_bucket()
