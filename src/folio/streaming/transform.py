"""The transform stage: orders events in, ``OrderFacts`` out (enriched, normalised, derived).

``order_facts`` is pure: from an ``orders`` record it derives the facts the analyst
reads without joining anything back: the amounts in minor units with the currency
upper-cased and its number of minor-unit digits (ISO 4217: ``JPY`` 0, ``KWD`` 3, most
2), the net amount (total less refunds), the revenue this event books (the total, on
``OrderPaid``; refunds show in ``refunded_minor``), the line and item counts, the
order's version and the event time. ``Transform`` is the stage's handler: it produces
one ``OrderFacts`` record per orders event to ``<prefix>orders.facts`` (same key, same
event id, so the sink's upsert sees every copy as one) and returns once the broker
acknowledged them all; the consumer commits after that. A record whose facts break
their schema is refused (dead-lettered with the reason).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from folio.streaming.consumer import Rejected
from folio.streaming.envelope import OutgoingRecord, StreamRecord
from folio.streaming.event_schemas import EventSchemas, SchemaViolationError
from folio.streaming.producer import EventProducer
from folio.streaming.topics import FACTS_FAMILY

__all__ = ["FACTS_TYPE", "FACTS_VERSION", "SOURCE_FAMILY", "Transform", "minor_unit_digits", "order_facts"]

SOURCE_FAMILY = "orders"
FACTS_TYPE = "OrderFacts"
FACTS_VERSION = 1

_DIGITS = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
"""ISO 4217 currencies whose minor unit is not a hundredth."""


def minor_unit_digits(currency: str) -> int:
    """How many digits the minor unit of ``currency`` has (2 unless ISO 4217 says otherwise)."""
    return _DIGITS.get(currency.upper(), 2)


def order_facts(record: StreamRecord) -> dict[str, Any]:
    """The ``OrderFacts`` v1 payload of an ``orders`` record (whose payload its schema accepted)."""
    payload = record.payload
    currency = str(payload["currency"]).upper()
    total, refunded = int(payload["total_minor"]), int(payload["refunded_minor"])
    lines = payload["lines"]
    return {
        "order_id": payload["order_id"],
        "tenant_id": str(record.tenant_id),
        "event_type": record.type,
        "status": payload["status"],
        "currency": currency,
        "minor_unit_digits": minor_unit_digits(currency),
        "total_minor": total,
        "refunded_minor": refunded,
        "net_minor": total - refunded,
        "revenue_minor": total if record.type == "OrderPaid" else 0,
        "line_count": len(lines),
        "item_count": sum(int(line["quantity"]) for line in lines),
        "order_version": int(payload["version"]),
        "occurred_at": record.occurred_at.astimezone(dt.UTC).isoformat(),
    }


class Transform:
    """The stage's handler: the ``OrderFacts`` of each orders record, acknowledged before it returns."""

    def __init__(
        self,
        producer: EventProducer,
        schemas: EventSchemas,
        *,
        output_topic: str,
        source_family: str = SOURCE_FAMILY,
    ) -> None:
        self.producer = producer
        self.schemas = schemas
        self.output_topic = output_topic
        self.source_family = source_family

    async def __call__(self, records: list[StreamRecord]) -> list[Rejected]:
        """Produce the facts of ``records``; raise ``DeliveryError`` unless the broker took them all."""
        rejected: list[Rejected] = []
        outgoing: list[OutgoingRecord] = []
        for record in records:
            if record.family != self.source_family or record.tenant_id is None:
                rejected.append(
                    Rejected(record, f"the transform reads shops' {self.source_family} events only")
                )
                continue
            facts = order_facts(record)
            try:
                self.schemas.check(FACTS_FAMILY, FACTS_TYPE, FACTS_VERSION, facts)
            except SchemaViolationError as exc:
                rejected.append(Rejected(record, f"facts: {exc}"))
                continue
            headers = [
                (name, value)
                for name, value in record.headers()
                if name not in {"event-type", "schema-version", "event-family"}
            ]
            headers += [
                ("event-type", FACTS_TYPE.encode()),
                ("schema-version", str(FACTS_VERSION).encode()),
                ("event-family", FACTS_FAMILY.encode()),
            ]
            outgoing.append(
                OutgoingRecord(
                    topic=self.output_topic,
                    key=record.key,
                    value=json.dumps(facts, separators=(",", ":")).encode(),
                    headers=headers,
                    event_id=record.event_id,
                )
            )
        outcomes = await self.producer.send(outgoing)
        failed = next((outcome for outcome in outcomes if outcome is not None), None)
        if failed is not None:
            raise failed
        return rejected
