"""Per-credential and per-shop API rate limits, and API-call metering (being built)."""

from __future__ import annotations


async def enforce_api_limits() -> None:
    """Count the request against its limits (not built yet: allows everything)."""
