"""Reading OTLP/HTTP: an ``ExportTraceServiceRequest`` (protobuf) as flat ``SpanRecord``s."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

__all__ = ["AttributeValue", "MalformedExportError", "SpanRecord", "decode_export"]

AttributeValue = str | int | float | bool


class MalformedExportError(ValueError):
    """A request body that is not an OTLP ``ExportTraceServiceRequest``."""


@dataclass(frozen=True, slots=True)
class SpanRecord:
    """One finished span, as the store and the sampler see it (ids as lowercase hex)."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    service: str
    name: str
    kind: str
    start_ns: int
    end_ns: int
    error: bool = False
    attributes: dict[str, AttributeValue] = field(default_factory=dict)

    @property
    def duration_ms(self) -> float:
        """How long the span took."""
        return max(self.end_ns - self.start_ns, 0) / 1e6

    @property
    def started_at(self) -> dt.datetime:
        """When it started (UTC)."""
        return dt.datetime.fromtimestamp(self.start_ns / 1e9, dt.UTC)


def _value(value: AnyValue) -> AttributeValue:
    which = value.WhichOneof("value")
    if which in {"string_value", "bool_value", "int_value", "double_value"}:
        found: AttributeValue = getattr(value, which)
        return found
    return str(value).strip()


def decode_export(body: bytes) -> list[SpanRecord]:
    """Every span of an OTLP/HTTP protobuf body; ``MalformedExportError`` when it is not one."""
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise MalformedExportError(f"not an OTLP ExportTraceServiceRequest: {exc}") from exc
    spans: list[SpanRecord] = []
    for resource_spans in request.resource_spans:
        resource = {item.key: _value(item.value) for item in resource_spans.resource.attributes}
        service = str(resource.get("service.name", "unknown"))
        for scope_spans in resource_spans.scope_spans:
            spans.extend(
                SpanRecord(
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_span_id=span.parent_span_id.hex() or None,
                    service=service,
                    name=span.name[:200],
                    kind=Span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_").lower(),
                    start_ns=span.start_time_unix_nano,
                    end_ns=span.end_time_unix_nano,
                    error=span.status.code == Status.STATUS_CODE_ERROR,
                    attributes={item.key: _value(item.value) for item in span.attributes},
                )
                for span in scope_spans.spans
            )
    return spans
