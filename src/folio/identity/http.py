"""Identity's HTTP adapter: auth endpoints and the principal dependency (being built)."""

from __future__ import annotations

from fastapi import APIRouter

from folio.core.errors import AuthenticationRequiredError
from folio.core.security import Principal

router = APIRouter()


async def current_principal() -> Principal:
    """The caller, from a bearer token or an API key (not built yet: always 401)."""
    raise AuthenticationRequiredError("authentication is not built yet")
