"""How an event travels on Kafka: its key, its headers, its JSON value; and how a consumer reads it back.

A record's **value** is the event's payload (JSON, UTF-8). Its **key** is
``<shop>:<aggregate id>`` (``-`` for an event of no shop), so the default partitioner
puts every event of one aggregate in one partition, in order. Its **headers**:

==================  ======================================================
``event-id``        ``outbox-<outbox event id>``: the same on every copy, the sink's upsert key
``event-type``      ``OrderPaid``, ``payment_intent.succeeded``, ...
``schema-version``  the payload's version (its schema: ``<family>/<type>.v<N>``)
``event-family``    the outbox topic (``orders``): which schema folder
``tenant-id``       the shop's id, absent for an event of no shop
``occurred-at``     when the event was published (ISO 8601, UTC): the event time
``correlation-id``  the request that caused it, when known
``trace-id``        its trace, when known
``traceparent``     W3C trace context of the span that produced it (``folio.core.telemetry``)
==================  ======================================================
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from folio.core.outbox import ClaimedEvent

__all__ = [
    "Headers",
    "OutgoingRecord",
    "StreamRecord",
    "UndecodableRecordError",
    "aggregate_key",
    "decode_record",
    "envelope_headers",
    "outgoing_from_event",
]

Headers = list[tuple[str, str | bytes | None]]
"""Kafka record headers, as the client takes and gives them."""


class UndecodableRecordError(ValueError):
    """A record a consumer cannot read as an event: the message says what is missing or malformed."""


@dataclass(frozen=True)
class OutgoingRecord:
    """One record to produce: where, its key, its headers and its value."""

    topic: str
    key: str
    value: bytes
    headers: Headers
    event_id: str


@dataclass(frozen=True)
class StreamRecord:
    """An event read from Kafka, decoded: the envelope, the payload, and where it was read."""

    event_id: str
    family: str
    type: str
    schema_version: int
    tenant_id: uuid.UUID | None
    occurred_at: dt.datetime
    correlation_id: str | None
    trace_id: str | None
    key: str
    payload: dict[str, Any]
    topic: str
    partition: int
    offset: int
    traceparent: str | None = None
    """The producing span's W3C trace context: a stage's span (and the records it derives) continue it."""

    def headers(self) -> Headers:
        """The envelope's headers, as a stage passes them on to the records it derives."""
        return envelope_headers(
            event_id=self.event_id,
            family=self.family,
            event_type=self.type,
            schema_version=self.schema_version,
            tenant_id=self.tenant_id,
            occurred_at=self.occurred_at,
            correlation_id=self.correlation_id,
            trace_id=self.trace_id,
            traceparent=self.traceparent,
        )


def aggregate_key(tenant_id: uuid.UUID | None, aggregate: str) -> str:
    """``<shop>:<aggregate id>``: one aggregate's events share it, hence a partition and an order."""
    return f"{tenant_id or '-'}:{aggregate}"


def envelope_headers(
    *,
    event_id: str,
    family: str,
    event_type: str,
    schema_version: int,
    tenant_id: uuid.UUID | None,
    occurred_at: dt.datetime,
    correlation_id: str | None,
    trace_id: str | None,
    traceparent: str | None = None,
) -> Headers:
    """An envelope's Kafka headers: id, type, version, family, time; shop, correlation, trace if known."""
    optional = {
        "tenant-id": tenant_id,
        "correlation-id": correlation_id,
        "trace-id": trace_id,
        "traceparent": traceparent,
    }
    return [
        ("event-id", event_id.encode()),
        ("event-type", event_type.encode()),
        ("schema-version", str(schema_version).encode()),
        ("event-family", family.encode()),
        ("occurred-at", occurred_at.astimezone(dt.UTC).isoformat().encode()),
        *((name, str(value).encode()) for name, value in optional.items() if value is not None),
    ]


def outgoing_from_event(event: ClaimedEvent, *, topic: str) -> OutgoingRecord:
    """The record the relay produces to ``topic`` for an outbox event."""
    event_id = f"outbox-{event.id}"
    return OutgoingRecord(
        topic=topic,
        key=aggregate_key(event.tenant_id, event.key or str(event.id)),
        value=json.dumps(event.payload, separators=(",", ":")).encode(),
        headers=envelope_headers(
            event_id=event_id,
            family=event.topic,
            event_type=event.type,
            schema_version=event.schema_version,
            tenant_id=event.tenant_id,
            occurred_at=event.created_at,
            correlation_id=event.correlation_id,
            trace_id=event.trace_id,
            traceparent=event.traceparent,
        ),
        event_id=event_id,
    )


def decode_record(
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Headers | dict[str, str | bytes | None] | None,
) -> StreamRecord:
    """Read a consumed record's envelope and payload; ``UndecodableRecordError`` says what is wrong."""
    found: Mapping[str, str | bytes | None] = dict(headers or ())

    def header(name: str, *, required: bool = True) -> str | None:
        raw = found.get(name)
        if raw is None:
            if required:
                raise UndecodableRecordError(f"no {name} header")
            return None
        try:
            return raw if isinstance(raw, str) else raw.decode()
        except UnicodeDecodeError as exc:
            raise UndecodableRecordError(f"the {name} header is not UTF-8") from exc

    try:
        payload = json.loads(value or b"")
        version = int(header("schema-version") or "")
        tenant = header("tenant-id", required=False)
        tenant_id = None if tenant is None else uuid.UUID(tenant)
        occurred_at = dt.datetime.fromisoformat(header("occurred-at") or "")
    except UndecodableRecordError:
        raise
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors too
        raise UndecodableRecordError(f"malformed record: {exc}") from exc
    if not isinstance(payload, dict):
        raise UndecodableRecordError("the value is not a JSON object")
    if occurred_at.tzinfo is None:
        raise UndecodableRecordError("the occurred-at header has no time zone")
    return StreamRecord(
        event_id=header("event-id") or "",
        family=header("event-family") or "",
        type=header("event-type") or "",
        schema_version=version,
        tenant_id=tenant_id,
        occurred_at=occurred_at,
        correlation_id=header("correlation-id", required=False),
        trace_id=header("trace-id", required=False),
        key=(key or b"").decode(errors="replace"),
        payload=payload,
        topic=topic,
        partition=partition,
        offset=offset,
        traceparent=header("traceparent", required=False),
    )
