"""The workers' RED metrics on the harness's RabbitMQ: deliveries by outcome, handling time, publishes."""

from __future__ import annotations

import aio_pika
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import Database
from folio.messaging.api import (
    Broker,
    HandlerRegistry,
    Inbound,
    PermanentError,
    TransientError,
    UnroutableMessageError,
    WorkQueue,
)
from folio.messaging.envelope import new_message
from folio.messaging.metrics import HANDLED_OUTCOMES
from tests.integration.messaging.conftest import eventually, running
from tests.integration.messaging.handlers import record_effect
from tests.support.tracing import recording_spans, spans_named

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("effects")]


def _handled(queue: str) -> dict[str, float]:
    """``folio_messaging_messages_total`` of ``queue``, per outcome."""
    return {
        outcome: REGISTRY.get_sample_value(
            "folio_messaging_messages_total", {"queue": queue, "outcome": outcome}
        )
        or 0.0
        for outcome in HANDLED_OUTCOMES
    }


def _published(outcome: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "folio_messaging_published_total", {"exchange": "amq.default", "outcome": outcome}
        )
        or 0.0
    )


async def judge(message: Inbound, session: AsyncSession) -> None:
    """Refuses ``refused`` for good, fails ``flaky`` once, applies the rest."""
    label = message.body["label"]
    if label == "refused":
        raise PermanentError("unknown event type")
    if label == "flaky" and message.attempt == 1:
        raise TransientError("the endpoint timed out")
    await record_effect(message, session)


async def test_each_delivery_is_counted_by_outcome_and_timed_in_its_trace(
    pg_database: Database, broker: Broker, work_queue: WorkQueue
) -> None:
    """A good message and its copy, a refused, a flaky and a poison one: each outcome counted, each timed."""
    registry = HandlerRegistry()
    registry.transactional(work_queue, judge)
    queue = work_queue.name
    with recording_spans("worker-test") as exporter:
        async with running(pg_database, broker, registry) as worker:
            publisher = await broker.publisher()
            for label in ("good", "good", "refused", "flaky"):
                # The two goods share an id: the second is the copy the inbox already has.
                message_id = "good-1" if label == "good" else None
                await publisher.publish(
                    work_queue, {"label": label}, type="test.effect", message_id=message_id
                )
            poison = aio_pika.Message(b"{not json", message_id="poison-1", type="test.effect")
            await publisher.send(poison, exchange="", routing_key=queue)

            async def all_settled() -> bool:
                """Good and flaky applied, the copy skipped, refused and poison dead-lettered."""
                stats = worker.stats
                return (stats.applied, stats.duplicates, stats.dead_lettered) == (2, 1, 2)

            await eventually(all_settled)
    assert _handled(queue) == {
        "acked": 2,
        "duplicate": 1,
        "retried": 1,
        "dead_lettered": 1,
        "invalid": 1,
        "returned": 0,
    }
    deliveries = 6  # good, its copy, refused, flaky twice, poison
    assert REGISTRY.get_sample_value("folio_messaging_handling_seconds_count", {"queue": queue}) == deliveries
    assert REGISTRY.get_sample_value("folio_messaging_in_flight", {"queue": queue}) == 0
    assert isinstance(exporter, InMemorySpanExporter)
    traced = {format(span.context.trace_id, "032x") for span in spans_named(exporter, f"{queue} process")}
    exemplars = {
        sample.exemplar.labels["trace_id"]
        for metric in REGISTRY.collect()
        if metric.name == "folio_messaging_handling_seconds"
        for sample in metric.samples
        if sample.labels.get("queue") == queue and sample.exemplar is not None
    }
    assert exemplars
    assert exemplars <= traced  # a latency bucket names the trace of a message it timed


async def test_publishes_are_counted_by_the_brokers_answer(broker: Broker, work_queue: WorkQueue) -> None:
    """A confirmed publish and an unroutable one each count once under the default exchange."""
    publisher = await broker.publisher()
    await broker.declare(work_queue)
    confirmed, returned = _published("confirmed"), _published("returned")

    await publisher.send(new_message({}, type="t"), exchange="", routing_key=work_queue.name)
    with pytest.raises(UnroutableMessageError):
        await publisher.send(new_message({}, type="t"), exchange="", routing_key=f"{work_queue.name}.nobody")

    assert (_published("confirmed") - confirmed, _published("returned") - returned) == (1, 1)
