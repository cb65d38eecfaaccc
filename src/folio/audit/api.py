"""The audit context's public surface (being built)."""

from __future__ import annotations

from folio.audit.http import router as http_router

__all__ = ["http_router"]
