"""The analytics tables the sink writes (migration ``0016_analytics``); not under row-level security."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from folio.core.columns import UtcDateTime
from folio.core.db import Base

__all__ = ["AnalyticsOrderEvent"]


class AnalyticsOrderEvent(Base):
    """One orders event as the transform enriched it; its event id makes the sink idempotent."""

    __tablename__ = "analytics_order_events"
    __table_args__ = (
        Index("ix_analytics_order_events_tenant_time", "tenant_id", "occurred_at"),
        Index("ix_analytics_order_events_order", "order_id"),
    )

    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event_type: Mapped[str] = mapped_column(String(100))
    schema_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    refunded_minor: Mapped[int] = mapped_column(BigInteger)
    net_minor: Mapped[int] = mapped_column(BigInteger)
    line_count: Mapped[int] = mapped_column(Integer)
    item_count: Mapped[int] = mapped_column(Integer)
    order_version: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ingested_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    source_topic: Mapped[str] = mapped_column(String(200))
    source_partition: Mapped[int] = mapped_column(Integer)
    source_offset: Mapped[int] = mapped_column(BigInteger)
