"""Usage metering and quota overrides, per shop."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, Date, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from folio.core.columns import UtcDateTime, utcnow
from folio.core.db import Base
from folio.core.tenancy import TenantOwned


class UsageDaily(TenantOwned, Base):
    """How much of a meter a shop used on one UTC day (the billing record)."""

    __tablename__ = "usage_daily"

    # Part of the primary key, as in the table: without it the ORM's identity map would
    # take two shops' rows for the same row.
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)

    meter: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class QuotaOverride(TenantOwned, Base):
    """A shop's own limit for a meter, replacing the default from settings."""

    __tablename__ = "usage_quota_overrides"

    # Part of the primary key, as in the table: without it the ORM's identity map would
    # take two shops' rows for the same row.
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)

    meter: Mapped[str] = mapped_column(String(40), primary_key=True)
    quota_limit: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
