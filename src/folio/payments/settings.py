"""The ``payments`` section: the Stripe-compatible test mode's limits, webhooks and error simulation.

A pure declaration: it imports nothing from Folio but the kernel's settings base, so
``folio.core.settings.tree`` composes it into the tree without loading the context.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import model_validator

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import setting

Simulation = Literal["decline", "timeout", "server_error", "delay_webhook", "duplicate_webhook"]
"""A failure payments can inject: as the ``Folio-Simulate`` header of one request, or for every request."""


class PaymentsSettings(FolioSettingsBase):
    """Payments: Stripe-compatible test mode (idempotency, checkout, webhooks, simulated failures)."""

    settings_path = ("payments",)

    api_version: str = setting(
        "2026-10-28.endive", description="The Stripe API version Folio's objects and events follow."
    )
    idempotency_ttl_s: int = setting(
        86_400,
        ge=60,
        le=7 * 86_400,
        description="How long an `Idempotency-Key` and its response are kept (24 h, as Stripe).",
    )
    idempotency_lease_s: int = setting(
        120,
        ge=5,
        le=3_600,
        description=(
            "How long a request may hold its `Idempotency-Key` in flight; a holder that died longer ago "
            "(a crashed process) gives the key up to the next retry instead of a 409 for a day."
        ),
    )
    checkout_session_ttl_s: int = setting(
        86_400,
        ge=1_800,
        le=86_400,
        description="Default life of a Checkout Session before it expires (24 h).",
    )
    webhook_secret_grace_s: int = setting(
        86_400,
        ge=0,
        le=7 * 86_400,
        description=(
            "How long a rolled webhook secret keeps signing beside the new one, when the roll names no "
            "`expires_in`."
        ),
    )
    webhook_timeout_s: float = setting(
        10.0, gt=0, le=60, description="How long a webhook delivery waits for the endpoint's answer."
    )
    simulation_enabled: bool = setting(
        default=True,
        description=(
            "Whether `Folio-Simulate` and `payments.simulate` inject failures (never in the `prod` profile)."
        ),
    )
    simulate: Simulation | None = setting(
        None, description="A failure injected into every payments request (needs `simulation_enabled`)."
    )
    simulated_timeout_s: float = setting(
        30.0,
        gt=0,
        le=300,
        description=(
            "`timeout`: how long the answer is held back after the change committed, so the client times out."
        ),
    )
    simulated_webhook_delay_s: int = setting(
        60,
        ge=1,
        le=86_400,
        description="`delay_webhook`: how long the event's webhooks wait before delivery.",
    )

    @model_validator(mode="after")
    def _simulation_needs_it_enabled(self) -> Self:
        if self.simulate is not None and not self.simulation_enabled:
            raise ValueError("payments.simulate needs payments.simulation_enabled")
        return self
