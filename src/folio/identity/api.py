"""The identity context's public surface: what other contexts and entry points may import."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from folio.core.security import Principal
from folio.identity.http import current_principal
from folio.identity.http import router as http_router

CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
"""The authenticated caller of an API endpoint (401 problem when there is none)."""

__all__ = ["CurrentPrincipal", "http_router"]
