"""The principal dependency: who is calling an API endpoint, from a bearer token or an API key.

Every authenticated route of every context takes ``principal: CurrentPrincipal``
(re-exported by ``folio.identity.api``). FastAPI caches a dependency per request, so
the gateway's rate limiter and the route share one authentication.

Key contracts:

- ``Authorization: Bearer <access token>`` is verified without touching the database
  (``tokens.verify_access_token``); ``X-API-Key: <key>`` is looked up (revocation takes
  effect at once). A bearer header wins when both are sent.
- No credential, or an invalid one: a 401 problem with ``WWW-Authenticate: Bearer``.
- The principal is left on ``request.state.principal`` (adapters that cannot import
  identity read it there) and its shop, user and key are bound into the log context,
  so the request's access line and every line after authentication carry them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from folio.core.errors import AuthenticationRequiredError, InvalidCredentialsError
from folio.core.logging import bind_request_context
from folio.core.security import Principal
from folio.httpkit import DatabaseDep, SettingsDep
from folio.identity.api_keys import authenticate_api_key
from folio.identity.tokens import verify_access_token

__all__ = ["API_KEY_HEADER", "CHALLENGE", "CurrentPrincipal", "current_principal"]

API_KEY_HEADER = "X-API-Key"
"""The header an API key travels in."""

CHALLENGE = {"WWW-Authenticate": "Bearer"}
"""The challenge every 401 from the API carries (RFC 6750)."""

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="BearerToken",
    description="An access token from `POST /api/v1/auth/token` (expires; renew it at `/auth/refresh`).",
)
_api_key = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    scheme_name="ApiKey",
    description="A shop's API key from `POST /api/v1/api-keys`; acts with the key's role.",
)


async def current_principal(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    """The authenticated caller of this request.

    Raises:
        AuthenticationRequiredError: no credential was sent (401, ``WWW-Authenticate: Bearer``).
        InvalidCredentialsError: the token or key is invalid, expired or revoked (401, same header).
    """
    # Async on purpose: a sync dependency would run in a worker thread, and the log
    # context it binds would not reach the request's own context (the access log).
    try:
        if bearer is not None:
            principal = verify_access_token(settings, bearer.credentials)
        elif api_key:
            principal = await authenticate_api_key(db, key=api_key)
        else:
            raise AuthenticationRequiredError(
                f"send an access token (Authorization: Bearer ...) or an API key ({API_KEY_HEADER})",
                headers=CHALLENGE,
            )
    except InvalidCredentialsError as exc:
        raise InvalidCredentialsError(exc.detail, headers=CHALLENGE) from None
    request.state.principal = principal
    bind_request_context(
        tenant_id=str(principal.tenant_id),
        user_id=str(principal.user_id) if principal.user_id else None,
        api_key_id=str(principal.api_key_id) if principal.api_key_id else None,
    )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
"""The authenticated caller of an API endpoint (401 problem when there is none)."""
