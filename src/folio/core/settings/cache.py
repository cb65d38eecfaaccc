"""The ``cache`` section: where counters, rate limits and web sessions live, and the caches' bounds."""

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
    l1_ttl_s: float = setting(
        30.0,
        gt=0,
        description="Default L1 (in-process) TTL of a named cache, in seconds: the staleness bound "
        "when an invalidation broadcast is missed.",
    )
    l1_entries: int = setting(1000, gt=0, description="Default entry bound of a named cache's L1.")
    l1_bytes: int = setting(
        4 * 1024 * 1024, gt=0, description="Default byte bound (encoded values) of a named cache's L1."
    )
    stale_s: float = setting(
        0.0,
        ge=0,
        description="Default stale window, in seconds: how long past its TTL a value is still served "
        "while one refresh runs (0: expired values are misses).",
    )
    early_refresh_beta: float = setting(
        0.0,
        ge=0,
        description="Default probabilistic early refresh (XFetch) of a named cache: 0 is off; with beta > 0 "
        "a hit refreshes in the background with probability exp(-time left / (load time * beta)); "
        "1 is usual.",
    )
    lease_s: float = setting(
        2.0,
        gt=0,
        description="Cross-process load lease, in seconds: the longest other processes wait for the "
        "process loading a key before they load it themselves; keep it above the origin's slowest call.",
    )
    subscribe_timeout_s: float = setting(
        1.0,
        gt=0,
        description="How long a process's first cache read waits for the invalidation channel.",
    )
