"""The analytics tables the stages write (``0016_analytics``, ``0018_analytics_windows``); not under RLS."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from folio.core.columns import UtcDateTime
from folio.core.db import Base

__all__ = ["AnalyticsOrderEvent", "AnalyticsShopMinute", "StreamWatermark"]


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


class AnalyticsShopMinute(Base):
    """One shop's paid orders and revenue in one currency over one event-time minute (the windows stage).

    The latest emission of the window: ``revision`` counts its emissions, ``final`` says
    no late event can change it any more.
    """

    __tablename__ = "analytics_shop_minute"
    __table_args__ = (
        Index(
            "ix_analytics_shop_minute_open",
            "window_start",
            postgresql_where=text("NOT final"),
            sqlite_where=text("NOT final"),
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(UtcDateTime, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    window_end: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revenue_minor: Mapped[int] = mapped_column(BigInteger)
    orders: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    final: Mapped[bool] = mapped_column(Boolean)
    watermark: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class StreamWatermark(Base):
    """The watermark a windowing consumer group reached, written with the windows it closed."""

    __tablename__ = "stream_watermarks"

    consumer_group: Mapped[str] = mapped_column(String(200), primary_key=True)
    watermark: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
