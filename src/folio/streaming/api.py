"""The public surface of streaming: Folio's event pipeline on a Kafka-protocol broker.

Key contracts (``docs/events.md`` has the design, the figures and the exactly-once
discussion):

- **Relay.** ``KafkaRelay`` (outbox consumer ``kafka-relay``, one at a time under the
  lock ``streaming:kafka-relay``) publishes every ``streaming.relay_topics`` event to
  ``<prefix><topic>``, keyed ``<shop>:<aggregate id>``, idempotent producer,
  ``acks=all``, acknowledged in the outbox only after the delivery report: no event
  lost, duplicates possible (same ``event-id`` header).
- **Schemas.** Every event type has ``schemas/events/<topic>/<Type>.v<N>.json``; the
  relay refuses (sets aside in the outbox) a payload that does not match, consumers
  dead-letter it. ``scripts/event_schemas.py --check`` refuses a breaking change.
  ``broker_schemas`` gives the broker a per-topic copy (Tansu's registry; value only).
- **Consumers.** ``StreamConsumer`` stages commit offsets only after their effect is
  durable (at least once); bad records go to ``<prefix>dlq`` with the reason.
- **Sink.** ``AnalyticsSink`` upserts by event id: redeliveries add no row.
- **Lake.** ``LakeSink`` appends the ``orders`` and ``carts`` events to the lake's order
  tables, skipping event ids the touched partitions already hold.
- **Windows.** ``WindowStage`` sums paid orders per shop in tumbling event-time windows
  (``TumblingWindows``: watermark, allowed lateness, late side output) into
  ``analytics_shop_minute``; its ``CommitPosition`` keeps offsets of open windows
  uncommitted.
"""

from __future__ import annotations

from folio.streaming.broker_schemas import broker_schemas, write_broker_schemas
from folio.streaming.compatibility import breaking_changes, fields_of, published_record
from folio.streaming.consumer import (
    BatchReport,
    CommitPosition,
    RecordHandler,
    Rejected,
    StreamConsumer,
    consumer_config,
)
from folio.streaming.envelope import (
    OutgoingRecord,
    StreamRecord,
    UndecodableRecordError,
    aggregate_key,
    decode_record,
    outgoing_from_event,
)
from folio.streaming.event_schemas import (
    DEFAULT_SCHEMAS_DIR,
    EventSchemas,
    SchemaKey,
    SchemaViolationError,
    read_schema_files,
)
from folio.streaming.lake_sink import LAKE_FAMILIES, LakeSink
from folio.streaming.models import AnalyticsOrderEvent, AnalyticsShopMinute, StreamWatermark
from folio.streaming.pipeline import RELAY_LOCK, STAGES, STREAMS, Streams, streams_for
from folio.streaming.producer import DeliveryError, EventProducer, ensure_topics, producer_config
from folio.streaming.relay import RELAY_CONSUMER, KafkaRelay
from folio.streaming.sink import AnalyticsSink
from folio.streaming.topics import FACTS_FAMILY, LATE_FAMILY, WINDOWS_FAMILY, TopicNames
from folio.streaming.transform import Transform, minor_unit_digits, order_facts
from folio.streaming.window_stage import WindowStage
from folio.streaming.windows import TumblingWindows

__all__ = [
    "DEFAULT_SCHEMAS_DIR",
    "FACTS_FAMILY",
    "LAKE_FAMILIES",
    "LATE_FAMILY",
    "RELAY_CONSUMER",
    "RELAY_LOCK",
    "STAGES",
    "STREAMS",
    "WINDOWS_FAMILY",
    "AnalyticsOrderEvent",
    "AnalyticsShopMinute",
    "AnalyticsSink",
    "BatchReport",
    "CommitPosition",
    "DeliveryError",
    "EventProducer",
    "EventSchemas",
    "KafkaRelay",
    "LakeSink",
    "OutgoingRecord",
    "RecordHandler",
    "Rejected",
    "SchemaKey",
    "SchemaViolationError",
    "StreamConsumer",
    "StreamRecord",
    "StreamWatermark",
    "Streams",
    "TopicNames",
    "Transform",
    "TumblingWindows",
    "UndecodableRecordError",
    "WindowStage",
    "aggregate_key",
    "breaking_changes",
    "broker_schemas",
    "consumer_config",
    "decode_record",
    "ensure_topics",
    "fields_of",
    "minor_unit_digits",
    "order_facts",
    "outgoing_from_event",
    "producer_config",
    "published_record",
    "read_schema_files",
    "streams_for",
    "write_broker_schemas",
]
