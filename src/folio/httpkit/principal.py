"""The caller of an API route, as a platform dependency: ``CurrentPrincipal``.

Every context's routes take ``principal: CurrentPrincipal``. The credentials are
checked by the platform's ``AUTHENTICATOR`` (bootstrap provides identity's), so a
context needs no import of identity to know who is calling, and identity's own routes
use the same dependency. FastAPI caches a dependency per request, so the gateway's
rate limiter and the route share one authentication.

The principal is left on ``request.state.principal`` and its shop, user and key are
bound into the log context, so the request's access line and every line after
authentication carry them.
"""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from folio.core.logging import bind_request_context
from folio.core.platform import Slot
from folio.core.security import Principal
from folio.httpkit.wiring import platform_of

__all__ = ["AUTHENTICATOR", "Authenticator", "CurrentPrincipal", "current_principal"]


class Authenticator(Protocol):
    """Turns the credentials a request carries into its caller.

    Raises a 401 ``FolioError`` (``AuthenticationRequiredError`` when neither credential
    was sent, ``InvalidCredentialsError`` when one is wrong), with the
    ``WWW-Authenticate`` challenge in its headers.
    """

    async def __call__(self, *, bearer: str | None, api_key: str | None) -> Principal:
        """The caller ``bearer`` (an access token) or ``api_key`` proves; a bearer token wins."""


AUTHENTICATOR: Slot[Authenticator] = Slot("authenticator")
"""Where bootstrap puts the process's authenticator (identity's, over the platform's database)."""

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="BearerToken",
    description="An access token from `POST /api/v1/auth/token` (expires; renew it at `/auth/refresh`).",
)
_api_key = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="ApiKey",
    description="A shop's API key from `POST /api/v1/api-keys`; acts with the key's role.",
)


async def current_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    """The authenticated caller of this request (the platform's authenticator's 401 when none)."""
    # Async on purpose: a sync dependency would run in a worker thread, and the log
    # context it binds would not reach the request's own context (the access log).
    authenticate = platform_of(request).get(AUTHENTICATOR)
    principal = await authenticate(bearer=bearer.credentials if bearer is not None else None, api_key=api_key)
    request.state.principal = principal
    bind_request_context(
        tenant_id=str(principal.tenant_id),
        user_id=str(principal.user_id) if principal.user_id else None,
        api_key_id=str(principal.api_key_id) if principal.api_key_id else None,
    )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
"""The authenticated caller of an API endpoint (401 problem when there is none)."""
