"""Who is calling: a bearer token or an API key turned into the caller's ``Principal``.

Framework-free on purpose: ``folio.bootstrap`` provides ``authenticate_credentials``
as the platform's authenticator (``folio.httpkit.principal.AUTHENTICATOR``), and the
HTTP dependency every context's routes share (``folio.httpkit.CurrentPrincipal``)
calls it. So no context imports identity just to know who is calling.

Key contracts:

- A bearer token is verified without touching the database
  (``tokens.verify_access_token``); an API key is looked up (revocation takes effect at
  once). A bearer token wins when both are sent.
- ``VerifiedTokens`` remembers the tokens this process verified, until each expires
  (and at most ``RECHECK_S``): checking an HS256 signature and its claims costs some
  80 µs of CPU, and a client sends the same token with every request. Access tokens are
  stateless (nothing revokes one before it expires), so remembering one changes no
  answer; the exception is a signing key removed from ``identity.jwt_keys``, whose
  tokens are refused again within ``RECHECK_S``. Refused tokens are never remembered.
- No credential, or an invalid one: a 401 problem with ``WWW-Authenticate: Bearer``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid

from folio.core.cache import Clock, Entry, LocalCache, WriteBack
from folio.core.db import Database
from folio.core.errors import AuthenticationRequiredError, InvalidCredentialsError
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.identity.api_keys import authenticate_api_key
from folio.identity.tokens import TokenType, decode_token, verify_access_token

__all__ = ["API_KEY_HEADER", "CHALLENGE", "RECHECK_S", "VerifiedTokens", "authenticate_credentials"]

API_KEY_HEADER = "X-API-Key"
"""The header an API key travels in."""

CHALLENGE = {"WWW-Authenticate": "Bearer"}
"""The challenge every 401 from the API carries (RFC 6750)."""


RECHECK_S = 60.0
"""Longest a verified token is taken on trust before its signature is checked again."""


class VerifiedTokens:
    """The access tokens this process verified and the principals they name (see the module docstring).

    An L1 of ``folio.core.cache`` (TTL + LRU), keyed by a digest of the token so a
    long token costs 32 bytes of key; each entry lives until its token's ``exp``.
    """

    def __init__(self, settings: Settings, *, max_entries: int = 10_000, clock: Clock = time.time) -> None:
        self._settings = settings
        self._clock = clock
        # ~60 bytes a principal: the byte bound never binds before the entry bound.
        self._verified = LocalCache(
            ttl_s=RECHECK_S, max_entries=max_entries, max_bytes=max_entries * 128, clock=clock
        )

    def principal(self, token: str) -> Principal:
        """The principal ``token`` names (``InvalidCredentialsError`` when it is not a valid access token)."""
        key = hashlib.blake2b(token.encode(), digest_size=16).hexdigest()
        known = self._verified.get(key)
        if known is not None:
            return _principal_from(known.value)
        claims = decode_token(self._settings, token, typ=TokenType.ACCESS)
        principal = Principal(
            tenant_id=claims.tenant_id, role=claims.role, user_id=claims.user_id, via="token"
        )
        expires = claims.expires_at.timestamp()
        if expires > self._clock():
            entry = Entry(_principal_bytes(principal), fresh_until=expires, stale_until=expires)
            self._verified.put(key, entry)
        return principal


def _principal_bytes(principal: Principal) -> bytes:
    """``tenant:role:user``: a token's principal is always a member's, ``via="token"``."""
    return f"{principal.tenant_id.hex}:{principal.role.value}:{principal.actor_id.hex}".encode()


def _principal_from(data: bytes) -> Principal:
    tenant, role, user = data.decode().split(":")
    # Built from a principal this process validated: no need to validate it again.
    return Principal.model_construct(
        tenant_id=uuid.UUID(tenant), role=Role(role), user_id=uuid.UUID(user), api_key_id=None, via="token"
    )


async def authenticate_credentials(
    db: Database,
    settings: Settings,
    *,
    bearer: str | None,
    api_key: str | None,
    tokens: VerifiedTokens | None = None,
    last_used: WriteBack[dt.datetime] | None = None,
) -> Principal:
    """The caller a bearer token (``Authorization: Bearer``) or an API key proves.

    ``tokens`` remembers verified bearer tokens (the platform's authenticator passes
    one); without it every token is verified afresh. ``last_used`` writes API keys' last
    uses back in batches (``api_keys.last_used_buffer``); without it, in the lookup.

    Raises:
        AuthenticationRequiredError: neither was sent (401, ``WWW-Authenticate: Bearer``).
        InvalidCredentialsError: the token or key is invalid, expired or revoked (401, same header).
    """
    try:
        if bearer is not None:
            return tokens.principal(bearer) if tokens is not None else verify_access_token(settings, bearer)
        if api_key:
            return await authenticate_api_key(db, key=api_key, last_used=last_used)
    except InvalidCredentialsError as exc:
        raise InvalidCredentialsError(exc.detail, headers=CHALLENGE) from None
    raise AuthenticationRequiredError(
        f"send an access token (Authorization: Bearer ...) or an API key ({API_KEY_HEADER})",
        headers=CHALLENGE,
    )
