"""The ``orders`` section: how long checkout holds stock for an unpaid order, how often the sweeps run.

A pure declaration: it imports nothing from Folio but the kernel's settings base, so
``folio.core.settings.tree`` composes it into the tree without loading the context.
"""

from __future__ import annotations

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import setting


class OrdersSettings(FolioSettingsBase):
    """Orders: the stock hold and the worker's sweeps."""

    settings_path = ("orders",)

    hold_minutes: int = setting(
        15, ge=1, le=24 * 60, description="How long checkout holds stock for an unpaid order."
    )
    sweep_interval_s: float = setting(
        30.0,
        gt=0,
        le=3600,
        description=(
            "How often a worker sweeps every shop: cancels unpaid orders whose hold ran out and opens "
            "the payment of checkouts a crash left without one (one replica at a time, lock orders:sweeps)."
        ),
    )
