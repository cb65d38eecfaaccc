"""Request-scoped log context held in contextvars.

structlog's contextvars are copied into every asyncio task and thread-pool call a
request spawns, which is how a background task's lines keep the request's id.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}")


def new_correlation_id() -> str:
    """A fresh random correlation id."""
    return uuid.uuid4().hex


def accept_correlation_id(candidate: str | None) -> str:
    """``candidate`` when it is a safe id (bounded, printable), else a fresh one.

    A client-chosen id goes into every log line, so anything that could forge log
    structure (newlines, quotes, huge values) is replaced rather than trusted.
    """
    # fullmatch, not match: ``$`` would also accept a trailing newline.
    if candidate and _VALID_ID.fullmatch(candidate):
        return candidate
    return new_correlation_id()


def trace_id_from(traceparent: str | None) -> str | None:
    """The trace id of a W3C ``traceparent`` header, or None when absent or malformed.

    Invalid per the spec, hence None: version ``ff`` and an all-zero trace or parent id.
    """
    if not traceparent:
        return None
    match = _TRACEPARENT.fullmatch(traceparent.strip().lower())
    if match is None:
        return None
    version, trace_id, parent_id = match.groups()
    if version == "ff" or set(trace_id) == {"0"} or set(parent_id) == {"0"}:
        return None
    return trace_id


def bind_request_context(**values: str | None) -> None:
    """Add fields (e.g. ``tenant_id``) to every later line of the current context."""
    structlog.contextvars.bind_contextvars(**{k: v for k, v in values.items() if v is not None})


@contextmanager
def request_context(correlation: str, trace_id: str | None = None) -> Iterator[None]:
    """Bind a request's ids for the duration of the block, then restore the outer context.

    Everything bound inside the block (``bind_request_context``: the tenant, the user)
    is dropped at its end too, so nothing of one request reaches the next one served
    in the same context.
    """
    outer = structlog.contextvars.get_contextvars()
    fields = {"correlation_id": correlation}
    if trace_id:
        fields["trace_id"] = trace_id
    try:
        with structlog.contextvars.bound_contextvars(**fields):
            yield
    finally:
        added = set(structlog.contextvars.get_contextvars()) - set(outer)
        structlog.contextvars.unbind_contextvars(*added)
        structlog.contextvars.bind_contextvars(**outer)


def correlation_id() -> str | None:
    """The correlation id of the current context, if any."""
    value = structlog.contextvars.get_contextvars().get("correlation_id")
    return value if isinstance(value, str) else None
