"""The trace store's tables (migration ``0020_traces``): one summary per kept trace, and its spans."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from folio.core.columns import UtcDateTime
from folio.core.db import Base

__all__ = ["StoredSpan", "TraceSummary"]


class TraceSummary(Base):
    """One kept trace: what the search lists and filters on."""

    __tablename__ = "trace_summaries"

    trace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    root_service: Mapped[str] = mapped_column(String(100))
    root_name: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    duration_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[bool] = mapped_column(Boolean)
    span_count: Mapped[int] = mapped_column(Integer)
    services: Mapped[str] = mapped_column(String(1000))
    """The services of its spans, sorted, space-separated."""
    kept_because: Mapped[str] = mapped_column(String(20))
    stored_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)


class StoredSpan(Base):
    """One span of a kept trace."""

    __tablename__ = "trace_spans"

    trace_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("trace_summaries.trace_id", ondelete="CASCADE"), primary_key=True
    )
    span_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    parent_span_id: Mapped[str | None] = mapped_column(String(16))
    service: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    duration_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[bool] = mapped_column(Boolean)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)
