"""Who is calling: a bearer token or an API key turned into the caller's ``Principal``.

Framework-free on purpose: ``folio.bootstrap`` provides ``authenticate_credentials``
as the platform's authenticator (``folio.httpkit.principal.AUTHENTICATOR``), and the
HTTP dependency every context's routes share (``folio.httpkit.CurrentPrincipal``)
calls it. So no context imports identity just to know who is calling.

Key contracts:

- A bearer token is verified without touching the database
  (``tokens.verify_access_token``); an API key is looked up (revocation takes effect at
  once). A bearer token wins when both are sent.
- No credential, or an invalid one: a 401 problem with ``WWW-Authenticate: Bearer``.
"""

from __future__ import annotations

from folio.core.db import Database
from folio.core.errors import AuthenticationRequiredError, InvalidCredentialsError
from folio.core.security import Principal
from folio.core.settings import Settings
from folio.identity.api_keys import authenticate_api_key
from folio.identity.tokens import verify_access_token

__all__ = ["API_KEY_HEADER", "CHALLENGE", "authenticate_credentials"]

API_KEY_HEADER = "X-API-Key"
"""The header an API key travels in."""

CHALLENGE = {"WWW-Authenticate": "Bearer"}
"""The challenge every 401 from the API carries (RFC 6750)."""


async def authenticate_credentials(
    db: Database, settings: Settings, *, bearer: str | None, api_key: str | None
) -> Principal:
    """The caller a bearer token (``Authorization: Bearer``) or an API key proves.

    Raises:
        AuthenticationRequiredError: neither was sent (401, ``WWW-Authenticate: Bearer``).
        InvalidCredentialsError: the token or key is invalid, expired or revoked (401, same header).
    """
    try:
        if bearer is not None:
            return verify_access_token(settings, bearer)
        if api_key:
            return await authenticate_api_key(db, key=api_key)
    except InvalidCredentialsError as exc:
        raise InvalidCredentialsError(exc.detail, headers=CHALLENGE) from None
    raise AuthenticationRequiredError(
        f"send an access token (Authorization: Bearer ...) or an API key ({API_KEY_HEADER})",
        headers=CHALLENGE,
    )
