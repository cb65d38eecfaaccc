"""The documented shape of a Folio log line."""

from __future__ import annotations

from typing import Final

LOG_SCHEMA: Final[dict[str, str]] = {
    "ts": "ISO-8601 UTC timestamp with microseconds.",
    "level": "debug, info, warning, error or critical.",
    "event": "What happened, a stable dotted name such as `http.request`.",
    "logger": "The logger (module) that wrote the line.",
    "service": "The process that wrote it (`gateway`, `cli`, ...).",
    "correlation_id": "The request it belongs to (`X-Request-ID`), absent outside a request.",
    "trace_id": "The W3C trace id when the request carried `traceparent`.",
    "tenant_id": "The shop the request acts for, once identity has resolved it.",
    "exception": "The formatted traceback, on error lines only.",
}
"""Fields every line may carry; anything else is event-specific context."""
