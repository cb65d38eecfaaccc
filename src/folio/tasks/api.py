"""The tasks context's public surface (being built)."""

from __future__ import annotations

from folio.tasks.http import v1_router, v2_router

__all__ = ["v1_router", "v2_router"]
