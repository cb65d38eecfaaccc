"""Usage metering and quota overrides, per shop."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from folio.core.columns import UtcDateTime, utcnow
from folio.core.db import Base
from folio.core.tenancy import TenantOwned


class UsageDaily(TenantOwned, Base):
    """How much of a meter a shop used on one UTC day (the billing record)."""

    __tablename__ = "usage_daily"

    meter: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class QuotaOverride(TenantOwned, Base):
    """A shop's own limit for a meter, replacing the default from settings."""

    __tablename__ = "usage_quota_overrides"

    meter: Mapped[str] = mapped_column(String(40), primary_key=True)
    quota_limit: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
