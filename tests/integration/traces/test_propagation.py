"""Trace context through the real brokers: a RabbitMQ message and a Kafka record continue the trace."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from folio.core.db import Database
from folio.core.outbox import ClaimedEvent
from folio.core.settings import Settings
from folio.core.telemetry import current_traceparent, tracer
from folio.messaging.api import Broker, HandlerRegistry, Inbound, WorkQueue
from folio.streaming.consumer import StreamConsumer, consumer_config
from folio.streaming.envelope import StreamRecord, outgoing_from_event
from folio.streaming.producer import EventProducer, ensure_topics, producer_config
from tests.integration.messaging.conftest import eventually, running
from tests.integration.streaming.conftest import Private, order_payload
from tests.support.tracing import parent_id, recording_spans

pytestmark = pytest.mark.integration


def _trace_of_current_span() -> int:
    return trace.get_current_span().get_span_context().trace_id


def _event(*, family: str, traceparent: str | None) -> ClaimedEvent:
    """An outbox event as the relay claims it, written under ``traceparent``."""
    order = uuid.uuid4()
    return ClaimedEvent(
        id=1,
        topic=family,
        key=str(order),
        type="OrderPlaced",
        schema_version=1,
        payload=order_payload(order, "pending_payment"),
        tenant_id=uuid.uuid4(),
        created_at=dt.datetime.now(dt.UTC),
        correlation_id=None,
        trace_id=None,
        attempts=0,
        last_error=None,
        traceparent=traceparent,
    )


async def test_a_rabbitmq_message_continues_the_publishers_trace(
    pg_database: Database, broker: Broker, work_queue: WorkQueue
) -> None:
    """A publish in a request's span -> RabbitMQ -> the worker's span and its handler share the trace."""
    seen: list[int] = []

    async def handle(message: Inbound) -> None:
        seen.append(_trace_of_current_span())

    registry = HandlerRegistry()
    registry.external(work_queue, handle)
    with recording_spans("worker") as exporter:
        assert isinstance(exporter, InMemorySpanExporter)
        async with running(pg_database, broker, registry):
            with tracer().start_as_current_span("POST /api/v1/orders") as request:
                await (await broker.publisher()).publish(work_queue, {"n": 1}, type="test.traced")

            async def handled() -> bool:
                """The handler ran."""
                return bool(seen)

            await eventually(handled)
    spans = {span.name: span for span in exporter.get_finished_spans()}
    publish = spans[f"{work_queue.name} publish"]
    process = spans[f"{work_queue.name} process"]
    assert seen == [request.get_span_context().trace_id]
    assert parent_id(publish) == request.get_span_context().span_id
    assert parent_id(process) == publish.context.span_id


async def test_a_kafka_record_continues_the_outbox_writers_trace(
    private: Private, settings: Settings, require_service: Callable[[str], None]
) -> None:
    """An outbox event's traceparent -> the relay's produce span -> Kafka -> the stage's span, one trace."""
    bootstrap = settings.services.kafka.bootstrap
    topic = f"{private.streams.names.prefix}traced"
    await ensure_topics(bootstrap, [topic], partitions=1)
    producer = EventProducer(
        producer_config(bootstrap, delivery_timeout_s=10.0, client_id="trace-test"), delivery_timeout_s=10.0
    )
    group = f"trace-test-{uuid.uuid4().hex[:8]}"
    consumer = StreamConsumer(
        consumer_config(bootstrap, group=group, session_timeout_ms=6_000, heartbeat_interval_ms=1_000),
        topics=[topic],
        schemas=private.streams.schemas,
        dead_letters=producer,
        dead_letter_topic=f"{topic}.dlq",
    )
    seen: list[tuple[int, str | None]] = []

    async def handle(records: list[StreamRecord]) -> list:  # type: ignore[type-arg]
        seen.extend((_trace_of_current_span(), record.traceparent) for record in records)
        return []

    with recording_spans("streams") as exporter:
        assert isinstance(exporter, InMemorySpanExporter)
        with tracer().start_as_current_span("POST /api/v1/orders") as request:
            stored = current_traceparent()
        outcomes = await producer.send(
            [outgoing_from_event(_event(family=private.family, traceparent=stored), topic=topic)]
        )
        assert outcomes == [None]
        try:
            for _ in range(60):
                await consumer.run_batch(handle)
                if seen:
                    break
                await asyncio.sleep(0.1)
        finally:
            await consumer.close()
            await producer.close()
    assert [trace_id for trace_id, _ in seen] == [request.get_span_context().trace_id]
    spans = {span.name: span for span in exporter.get_finished_spans()}
    publish, process = spans[f"{topic} publish"], spans[f"{group} process"]
    assert parent_id(publish) == request.get_span_context().span_id
    assert parent_id(process) == publish.context.span_id
