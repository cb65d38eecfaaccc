"""The usage context's public surface (being built)."""

from __future__ import annotations

from folio.usage.http import router as http_router

__all__ = ["http_router"]
