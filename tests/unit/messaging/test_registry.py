"""The handler registry, the inbox on SQLite, and the public surface of folio.messaging."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

import folio.messaging.api
from folio.core.db import Database
from folio.messaging.envelope import Inbound
from folio.messaging.inbox import prune_inbox, record_message, was_processed
from folio.messaging.registry import ExternalConsumer, HandlerRegistry, TransactionalConsumer
from folio.messaging.topology import WorkQueue

pytestmark = pytest.mark.unit


async def _transactional(message: Inbound, session: AsyncSession) -> None:
    """A handler of the transactional shape."""


async def _external(message: Inbound) -> None:
    """A handler of the external shape."""


def test_a_registry_holds_one_consumer_per_queue_in_order() -> None:
    """Both kinds register; a second consumer for one queue is refused."""
    registry = HandlerRegistry()
    registry.transactional(WorkQueue("receipts"), _transactional)
    registry.external(WorkQueue("webhooks"), _external)
    kinds = [(type(consumer), consumer.queue.name) for consumer in registry]
    assert kinds == [(TransactionalConsumer, "receipts"), (ExternalConsumer, "webhooks")]
    assert len(registry) == 2
    assert registry.get("webhooks") is not None
    assert registry.get("nope") is None
    with pytest.raises(ValueError, match="has a consumer already"):
        registry.external(WorkQueue("receipts"), _external)


async def test_the_inbox_records_a_message_once_per_consumer(sqlite_database: Database) -> None:
    """The first record wins; a second is refused; another consumer records the same id on its own."""

    async def record(consumer: str) -> bool:
        return await sqlite_database.run(
            lambda session: record_message(session, consumer=consumer, message_id="outbox-1")
        )

    assert await record("receipts")
    assert not await record("receipts")
    assert await record("webhooks")
    assert await was_processed(sqlite_database, consumer="receipts", message_id="outbox-1")
    assert not await was_processed(sqlite_database, consumer="receipts", message_id="outbox-2")


async def test_pruning_forgets_old_inbox_rows_only(sqlite_database: Database) -> None:
    """Rows processed before the cutoff go; later ones stay."""
    import datetime as dt

    await sqlite_database.run(lambda session: record_message(session, consumer="q", message_id="m"))
    assert await prune_inbox(sqlite_database, older_than=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)) == 0
    assert (
        await prune_inbox(sqlite_database, older_than=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)) == 1
    )
    assert not await was_processed(sqlite_database, consumer="q", message_id="m")


def test_api_exports() -> None:
    """Folio.messaging.api exports exactly its documented surface."""
    assert sorted(folio.messaging.api.__all__) == [
        "BROKER",
        "Broker",
        "BrokerUnavailableError",
        "DeadLetter",
        "EVENTS_EXCHANGE",
        "ExternalHandler",
        "HandlerRegistry",
        "Inbound",
        "JobLocks",
        "JobRounds",
        "MalformedMessageError",
        "OutboxRelay",
        "PermanentError",
        "PublishRefusedError",
        "Publisher",
        "QueueDepth",
        "QueuePlan",
        "RELAY_CONSUMER",
        "Registrar",
        "RelayReport",
        "TransactionalHandler",
        "TransientError",
        "URGENT_EVENTS_EXCHANGE",
        "UnknownQueueError",
        "UnroutableMessageError",
        "WorkQueue",
        "Worker",
        "WorkerStats",
        "broker_for",
        "list_dead",
        "purge_dead",
        "replay_dead",
    ]
