"""The ``live`` section: how many live connections a shop may hold open.

A pure declaration: it imports nothing from Folio but the kernel's settings base, so the
settings tree can compose it without loading the context.
"""

from __future__ import annotations

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import setting

__all__ = ["LiveSettings"]


class LiveSettings(FolioSettingsBase):
    """The live dashboard's streams."""

    settings_path = ("live",)

    max_connections_per_shop: int = setting(
        50,
        ge=1,
        le=10_000,
        description=(
            "Live streams (WebSocket and SSE) one shop may hold open in one gateway process; "
            "past it a connection is refused (4429 / 429)."
        ),
    )
