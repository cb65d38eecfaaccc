"""The general outbox on SQLite: publish, claim, ack, fail, backoff, poison, independent consumers."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import Base, Database, open_database
from folio.core.logging import request_context
from folio.core.outbox import (
    EventDraft,
    RetryPolicy,
    ack_events,
    add_outbox_event,
    add_outbox_events,
    claim_events,
    consumer_status,
    count_pending,
    fail_event,
    list_poisoned,
    requeue_poisoned,
    subscribe_consumer,
)
from folio.core.settings import Settings

pytestmark = pytest.mark.unit

TOPIC = "generated"
NOW = dt.datetime(2026, 12, 10, 12, 0, tzinfo=dt.UTC)
RETRY = RetryPolicy(max_attempts=3, first_backoff_s=10.0, max_backoff_s=15.0)


@pytest.fixture
async def db(settings: Settings, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh SQLite file holding only the outbox's tables."""
    db_settings = settings.database.model_copy(update={"backend": "sqlite", "url": None})
    async with open_database(db_settings, f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}") as database:
        tables = [
            Base.metadata.tables[name] for name in ("outbox_events", "outbox_consumers", "outbox_deliveries")
        ]
        async with database.primary.begin() as connection:
            await connection.run_sync(lambda sync: Base.metadata.create_all(sync, tables=tables))
        yield database


async def publish(db: Database, *keys: str, topic: str = TOPIC) -> None:
    """Publish one ``thing.changed`` event per key, in one transaction."""

    async def work(session: AsyncSession) -> None:
        for key in keys:
            await add_outbox_event(session, topic=topic, key=key, type="thing.changed", payload={"key": key})

    await db.run(work)


async def claimed_keys(db: Database, consumer: str, *, now: dt.datetime = NOW) -> list[str | None]:
    """The keys ``consumer`` is handed now, in the order it is handed them."""
    return [event.key for event in await claim_events(db, consumer=consumer, limit=100, now=now)]


async def test_a_published_event_reaches_a_subscriber_with_its_context(db: Database) -> None:
    """The event carries topic, key, type, version, payload, shop and correlation id; ack removes it."""
    await subscribe_consumer(db, consumer="indexer", topic=TOPIC)
    await subscribe_consumer(db, consumer="indexer", topic=TOPIC)  # idempotent
    shop = uuid.uuid4()

    async def work(session: AsyncSession) -> None:
        await add_outbox_event(
            session,
            topic=TOPIC,
            key="k1",
            type="thing.deleted",
            payload={"id": "k1", "n": 2},
            schema_version=3,
            tenant_id=shop,
        )

    with request_context("corr-generated-1"):
        await db.run(work)
    [event] = await claim_events(db, consumer="indexer", limit=10)
    assert (event.topic, event.key, event.type, event.schema_version) == (TOPIC, "k1", "thing.deleted", 3)
    assert (event.payload, event.tenant_id, event.correlation_id) == (
        {"id": "k1", "n": 2},
        shop,
        "corr-generated-1",
    )
    assert (event.attempts, event.last_error, event.trace_id) == (0, None, None)
    assert await count_pending(db, consumer="indexer") == 1
    await ack_events(db, consumer="indexer", event_ids=[event.id])
    assert await claim_events(db, consumer="indexer", limit=10) == []
    assert await count_pending(db, consumer="indexer") == 0


async def test_an_event_that_rolls_back_is_never_delivered(db: Database) -> None:
    """Publishing is part of the caller's transaction: a failed unit leaves no event behind."""
    await subscribe_consumer(db, consumer="indexer", topic=TOPIC)

    async def failing(session: AsyncSession) -> None:
        await add_outbox_event(session, topic=TOPIC, key="lost", type="thing.changed", payload={})
        raise LookupError("the change itself failed")

    with pytest.raises(LookupError):
        await db.run(failing)
    assert await claimed_keys(db, "indexer") == []


async def test_events_are_handed_out_in_id_order_and_only_to_subscribers(db: Database) -> None:
    """A batch keeps its order; a consumer sees its topics' events published after it subscribed, only."""
    await publish(db, "before")
    await subscribe_consumer(db, consumer="indexer", topic=TOPIC)

    async def batch(session: AsyncSession) -> None:
        await add_outbox_events(
            session,
            [EventDraft(topic=TOPIC, key=f"b{n}", type="thing.changed", payload={}) for n in range(5)]
            + [EventDraft(topic="elsewhere", key="x", type="other.changed", payload={})],
        )

    await db.run(batch)
    await publish(db, "after")
    assert await claimed_keys(db, "indexer") == ["b0", "b1", "b2", "b3", "b4", "after"]
    limited = await claim_events(db, consumer="indexer", limit=2)
    assert [event.key for event in limited] == ["b0", "b1"]
    assert limited[0].id < limited[1].id


async def test_a_failed_event_backs_off_exponentially_then_is_poisoned(db: Database) -> None:
    """Failures wait 10 s, then 15 s (capped); the third poisons the event, which blocks nothing after it."""
    await subscribe_consumer(db, consumer="indexer", topic=TOPIC)
    await publish(db, "bad", "good")
    bad, _ = await claim_events(db, consumer="indexer", limit=10, now=NOW)

    assert not await fail_event(db, consumer="indexer", event_id=bad.id, error="boom 1", retry=RETRY, now=NOW)
    assert await claimed_keys(db, "indexer", now=NOW + dt.timedelta(seconds=9)) == ["good"]
    assert await claimed_keys(db, "indexer", now=NOW + dt.timedelta(seconds=10)) == ["bad", "good"]

    second = NOW + dt.timedelta(seconds=10)
    assert not await fail_event(
        db, consumer="indexer", event_id=bad.id, error="boom 2", retry=RETRY, now=second
    )
    assert await claimed_keys(db, "indexer", now=second + dt.timedelta(seconds=14)) == ["good"]
    [retried, _] = await claim_events(db, consumer="indexer", limit=10, now=second + dt.timedelta(seconds=15))
    assert (retried.key, retried.attempts, retried.last_error) == ("bad", 2, "boom 2")

    third = second + dt.timedelta(seconds=15)
    assert await fail_event(db, consumer="indexer", event_id=bad.id, error="boom 3", retry=RETRY, now=third)
    assert await claimed_keys(db, "indexer", now=third + dt.timedelta(days=365)) == ["good"]
    assert await count_pending(db, consumer="indexer") == 1
    [poisoned] = await list_poisoned(db, consumer="indexer")
    assert (poisoned.key, poisoned.attempts, poisoned.last_error) == ("bad", 3, "boom 3")


async def test_an_operator_requeues_a_poisoned_event_for_its_consumer_only(db: Database) -> None:
    """Requeueing puts the event back with fresh attempts for that consumer; others' poison stays."""
    await subscribe_consumer(db, consumer="indexer", topic=TOPIC)
    await subscribe_consumer(db, consumer="mailer", topic=TOPIC)
    await publish(db, "bad")
    once = RetryPolicy(max_attempts=1, first_backoff_s=0.0)
    for consumer in ("indexer", "mailer"):
        [event] = await claim_events(db, consumer=consumer, limit=10, now=NOW)
        assert await fail_event(db, consumer=consumer, event_id=event.id, error="boom", retry=once, now=NOW)

    assert await requeue_poisoned(db, consumer="indexer", event_ids=[event.id + 1]) == 0
    assert await requeue_poisoned(db, consumer="indexer") == 1
    [again] = await claim_events(db, consumer="indexer", limit=10, now=NOW)
    assert (again.key, again.attempts) == ("bad", 0)
    assert await list_poisoned(db, consumer="indexer") == []
    assert [e.key for e in await list_poisoned(db, consumer="mailer")] == ["bad"]


async def test_two_consumers_of_one_topic_progress_independently(db: Database) -> None:
    """One consumer's acks, failures and poison leave the other's backlog untouched."""
    await subscribe_consumer(db, consumer="indexer", topic=TOPIC)
    await subscribe_consumer(db, consumer="mailer", topic=TOPIC)
    await publish(db, "one", "two", "three")
    indexed = await claim_events(db, consumer="indexer", limit=10)
    await ack_events(db, consumer="indexer", event_ids=[indexed[0].id, indexed[2].id])
    for attempt in range(RETRY.max_attempts):
        await fail_event(db, consumer="indexer", event_id=indexed[1].id, error=f"down {attempt}", retry=RETRY)

    assert await claimed_keys(db, "indexer", now=NOW + dt.timedelta(days=1)) == []
    assert [event.key for event in await list_poisoned(db, consumer="indexer")] == ["two"]
    mailed = await claim_events(db, consumer="mailer", limit=10)
    assert [(event.key, event.attempts) for event in mailed] == [("one", 0), ("two", 0), ("three", 0)]
    assert await list_poisoned(db, consumer="mailer") == []

    await ack_events(db, consumer="mailer", event_ids=[event.id for event in mailed])
    await publish(db, "four")
    assert await claimed_keys(db, "indexer") == ["four"]
    assert await claimed_keys(db, "mailer") == ["four"]


async def test_operators_see_each_consumers_backlog(db: Database) -> None:
    """``consumer_status`` counts pending, retrying and poisoned events per consumer, idle ones included."""
    await subscribe_consumer(db, consumer="indexer", topic=TOPIC)
    await subscribe_consumer(db, consumer="indexer", topic="elsewhere")
    await subscribe_consumer(db, consumer="idle", topic="quiet")
    await publish(db, "a", "b", "c")
    a, b, _ = await claim_events(db, consumer="indexer", limit=10)
    await fail_event(db, consumer="indexer", event_id=a.id, error="once", retry=RETRY)
    for _ in range(RETRY.max_attempts):
        await fail_event(db, consumer="indexer", event_id=b.id, error="always", retry=RETRY)

    idle, indexer = await consumer_status(db)
    assert (idle.name, idle.topics, idle.pending, idle.poisoned, idle.oldest_pending_at) == (
        "idle",
        ("quiet",),
        0,
        0,
        None,
    )
    assert (indexer.name, indexer.topics) == ("indexer", ("elsewhere", TOPIC))
    assert (indexer.pending, indexer.retrying, indexer.poisoned) == (2, 1, 1)
    assert indexer.oldest_pending_at == a.created_at


async def test_failing_an_acknowledged_event_changes_nothing(db: Database) -> None:
    """A late failure report for an event already acked neither resurrects nor poisons it."""
    await subscribe_consumer(db, consumer="indexer", topic=TOPIC)
    await publish(db, "done")
    [event] = await claim_events(db, consumer="indexer", limit=10)
    await ack_events(db, consumer="indexer", event_ids=[event.id])
    assert not await fail_event(db, consumer="indexer", event_id=event.id, error="late", retry=RETRY)
    assert await claimed_keys(db, "indexer") == []
    assert await list_poisoned(db, consumer="indexer") == []


def test_retry_policy_doubles_up_to_its_cap_and_refuses_nonsense() -> None:
    """Backoff is first * 2^(n-1), capped; a policy that could never retry is refused."""
    policy = RetryPolicy(max_attempts=6, first_backoff_s=1.0, max_backoff_s=5.0)
    assert [policy.backoff_s(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert RetryPolicy(first_backoff_s=0.0).backoff_s(4) == 0.0
    with pytest.raises(ValueError, match="impossible retry policy"):
        RetryPolicy(max_attempts=0)
