"""What a Folio message carries on the wire, and the ``Inbound`` view a handler receives.

A message is persistent JSON with a ``message_id`` (the inbox's key: an outbox event's
is ``outbox-<event id>``, so the relay's duplicates share it), the event ``type``, the
``correlation_id`` of the request that caused it, and Folio's headers:

- ``folio-topic``, ``folio-key``, ``folio-tenant``, ``folio-schema-version``: an outbox
  event's metadata (the relay sets them);
- ``folio-attempt``: how many times Folio's workers have failed it (0 when fresh);
- ``folio-error``: the last failure, on a retried or dead-lettered copy;
- ``folio-return-to``: on a copy waiting on a rung, the lane it goes back to.

``x-delivery-count`` is the broker's own count (quorum queues) of returns to the queue.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, FieldValue

from folio.core.outbox import ClaimedEvent
from folio.messaging.errors import MalformedMessageError
from folio.messaging.topology import RETURN_HEADER

__all__ = [
    "ATTEMPT_HEADER",
    "ERROR_HEADER",
    "KEY_HEADER",
    "SCHEMA_HEADER",
    "TENANT_HEADER",
    "TOPIC_HEADER",
    "Inbound",
    "event_message",
    "failed_copy",
    "inbound",
    "new_message",
    "replayed_copy",
]

ATTEMPT_HEADER = "folio-attempt"
ERROR_HEADER = "folio-error"
TOPIC_HEADER = "folio-topic"
KEY_HEADER = "folio-key"
TENANT_HEADER = "folio-tenant"
SCHEMA_HEADER = "folio-schema-version"
MAX_ERROR_CHARS = 2_000
"""The longest error kept in a header (the head of a trace, not a dump)."""
_JSON = "application/json"


@dataclass(frozen=True)
class Inbound:
    """One message as its handler sees it: the decoded body and what Folio knows about it."""

    message_id: str
    type: str | None
    body: Any
    """The decoded JSON (an outbox event's payload)."""
    queue: str
    """The work queue it was consumed from (its consumer's name)."""
    urgent: bool
    attempt: int
    """1 on the first try; n after n - 1 transient failures (the ladder's count)."""
    redelivered: bool
    """The broker handed it out before and got no ack (a worker died, or returned it at shutdown)."""
    topic: str | None = None
    key: str | None = None
    tenant_id: uuid.UUID | None = None
    schema_version: int | None = None
    correlation_id: str | None = None
    published_at: dt.datetime | None = None


def _int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def inbound(message: AbstractIncomingMessage, *, queue: str, urgent: bool) -> Inbound:
    """The handler's view of ``message``; ``MalformedMessageError`` when it has no id or no JSON body."""
    if not message.message_id:
        raise MalformedMessageError("the message has no message_id, so it cannot be deduplicated")
    try:
        body = json.loads(message.body) if message.body else None
    except ValueError as exc:
        raise MalformedMessageError(f"the body is not JSON: {exc}") from exc
    headers = message.headers or {}
    tenant = _text(headers.get(TENANT_HEADER))
    try:
        tenant_id = uuid.UUID(tenant) if tenant else None
    except ValueError as exc:
        raise MalformedMessageError(f"{TENANT_HEADER} is not a UUID: {tenant!r}") from exc
    schema = headers.get(SCHEMA_HEADER)
    return Inbound(
        message_id=message.message_id,
        type=message.type,
        body=body,
        queue=queue,
        urgent=urgent,
        attempt=_int(headers.get(ATTEMPT_HEADER)) + 1,
        redelivered=bool(message.redelivered),
        topic=_text(headers.get(TOPIC_HEADER)),
        key=_text(headers.get(KEY_HEADER)),
        tenant_id=tenant_id,
        schema_version=_int(schema) if schema is not None else None,
        correlation_id=message.correlation_id,
        published_at=message.timestamp,
    )


def new_message(
    body: Any,
    *,
    type: str,  # noqa: A002 - the AMQP property's own name
    message_id: str | None = None,
    correlation_id: str | None = None,
    headers: Mapping[str, FieldValue] | None = None,
) -> aio_pika.Message:
    """A persistent JSON message; a fresh UUID as its id unless one is given (the dedup key)."""
    return aio_pika.Message(
        json.dumps(body, separators=(",", ":"), default=str).encode(),
        content_type=_JSON,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message_id or uuid.uuid4().hex,
        type=type,
        correlation_id=correlation_id,
        timestamp=dt.datetime.now(dt.UTC),
        headers=dict(headers or {}),
        app_id="folio",
    )


def event_message(event: ClaimedEvent) -> aio_pika.Message:
    """An outbox event as a message: payload as body, metadata as headers, ``outbox-<id>`` as id."""
    headers: dict[str, FieldValue] = {TOPIC_HEADER: event.topic, SCHEMA_HEADER: event.schema_version}
    if event.key is not None:
        headers[KEY_HEADER] = event.key
    if event.tenant_id is not None:
        headers[TENANT_HEADER] = str(event.tenant_id)
    message = new_message(
        event.payload,
        type=event.type,
        message_id=f"outbox-{event.id}",
        correlation_id=event.correlation_id,
        headers=headers,
    )
    message.timestamp = event.created_at
    return message


def _own_headers(message: AbstractIncomingMessage) -> dict[str, FieldValue]:
    # The broker's (x-death, x-delivery-count...) describe the old delivery, not the copy.
    return {name: value for name, value in (message.headers or {}).items() if not name.startswith("x-")}


def failed_copy(
    message: AbstractIncomingMessage, *, error: str, return_to: str | None = None
) -> aio_pika.Message:
    """A persistent copy of ``message`` (same id, body, properties) counting one failure more, with ``error``.

    ``return_to`` (a lane) makes it a rung's passenger: the rung sends it back there.
    """
    headers = _own_headers(message)
    headers[ATTEMPT_HEADER] = _int(headers.get(ATTEMPT_HEADER)) + 1
    headers[ERROR_HEADER] = error[:MAX_ERROR_CHARS]
    headers.pop(RETURN_HEADER, None)
    if return_to is not None:
        headers[RETURN_HEADER] = return_to
    return _copy(message, headers)


def replayed_copy(message: AbstractIncomingMessage) -> aio_pika.Message:
    """A persistent copy of a dead-lettered ``message`` with a clean slate: no failures, no error."""
    headers = _own_headers(message)
    for name in (ATTEMPT_HEADER, ERROR_HEADER, RETURN_HEADER):
        headers.pop(name, None)
    return _copy(message, headers)


def _copy(message: AbstractIncomingMessage, headers: dict[str, FieldValue]) -> aio_pika.Message:
    return aio_pika.Message(
        message.body,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        type=message.type,
        correlation_id=message.correlation_id,
        timestamp=message.timestamp,
        headers=headers,
        app_id=message.app_id,
    )
