"""The usage context's DTOs: meters, a day's usage, a quota."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Meter", "QuotaRead", "UsageRead"]


class Meter(StrEnum):
    """What Folio meters per shop; each has a quota (``tenancy.quotas``, or the shop's override)."""

    TASKS = "tasks"
    MEMBERS = "members"
    API_CALLS = "api_calls"
    STORAGE_BYTES = "storage_bytes"
    LISTINGS = "listings"


class UsageRead(BaseModel):
    """How much of one meter a shop used on one UTC day."""

    model_config = ConfigDict(from_attributes=True)

    meter: Meter = Field(description="The meter.", examples=["api_calls"])
    day: dt.date = Field(description="The UTC day.", examples=["2026-11-22"])
    quantity: int = Field(description="Units used that day (API calls, tasks created, ...).", examples=[1234])


class QuotaRead(BaseModel):
    """A shop's limit for one meter, and how much of it is in use where Folio knows."""

    meter: Meter = Field(description="The meter.", examples=["tasks"])
    limit: int = Field(
        description="The most the shop may use (per UTC day for `api_calls`).", examples=[10000]
    )
    in_use: int | None = Field(
        default=None,
        description="Today's recorded usage for `api_calls` (it lags by up to the usage flush interval); "
        "null for meters whose current count belongs to another context.",
        examples=[250],
    )
    overridden: bool = Field(
        description="Whether the shop has its own limit rather than the plan default.", examples=[False]
    )
