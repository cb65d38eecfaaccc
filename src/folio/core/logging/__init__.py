"""Structured JSON logging with correlation ids (L3-20): see ``docs/logging.md``.

Every line carries the fields of ``LOG_SCHEMA``; the request-scoped ones
(``correlation_id``, ``trace_id``, ``tenant_id``) come from contextvars, so they
follow a request into every task it spawns.
"""

from folio.core.logging.context import (
    bind_request_context,
    correlation_id,
    new_correlation_id,
    request_context,
)
from folio.core.logging.schema import LOG_SCHEMA
from folio.core.logging.setup import configure_logging, shutdown_logging

__all__ = [
    "LOG_SCHEMA",
    "bind_request_context",
    "configure_logging",
    "correlation_id",
    "new_correlation_id",
    "request_context",
    "shutdown_logging",
]
