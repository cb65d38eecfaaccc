"""The ``cache`` section: where counters, rate limits and web sessions live."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import setting


class CacheSettings(FolioSettingsBase):
    """Where counters, rate limits and web sessions live."""

    settings_path = ("cache",)

    backend: Literal["redis", "memory"] = setting(
        "redis", description="`redis` (the services' Redis), or `memory` for lite mode (one process)."
    )
    url: SecretStr | None = setting(None, description="Redis URL to use instead of the local server.")
