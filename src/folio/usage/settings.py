"""The ``tenancy`` section: each shop's default quotas and how often usage is metered.

Only the usage context (and the gateway process that runs its flusher) reads it. A pure
declaration: it imports nothing from Folio but the kernel's settings base, so
``folio.core.settings.tree`` composes it into the tree without loading the context.
"""

from __future__ import annotations

from pydantic import Field

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import setting


class QuotaSettings(FolioSettingsBase):
    """Default per-shop quotas; a shop's own overrides (`usage` context) win."""

    settings_path = ("tenancy", "quotas")

    tasks: int = setting(10_000, ge=0, description="Tasks a shop may hold.")
    members: int = setting(50, ge=0, description="Members (seats) a shop may have.")
    api_calls_per_day: int = setting(100_000, ge=0, description="API requests a shop may make per UTC day.")
    storage_bytes: int = setting(1_073_741_824, ge=0, description="Bytes of files a shop may store.")
    listings: int = setting(100_000, ge=0, description="Catalogue listings a shop may hold.")


class TenancySettings(FolioSettingsBase):
    """Multi-tenancy: quotas and metering."""

    settings_path = ("tenancy",)

    quotas: QuotaSettings = Field(default_factory=QuotaSettings)
    usage_flush_interval_s: float = setting(
        30.0, gt=0, description="How often the gateway copies Redis usage counters into the database."
    )
