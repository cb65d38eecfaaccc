"""Who is calling: a bearer token or an API key turned into the caller's ``Principal``.

Framework-free on purpose: ``folio.bootstrap`` provides ``authenticate_credentials``
as the platform's authenticator (``folio.httpkit.principal.AUTHENTICATOR``), and the
HTTP dependency every context's routes share (``folio.httpkit.CurrentPrincipal``)
calls it. So no context imports identity just to know who is calling.

Key contracts:

- A bearer token is verified without touching the database
  (``tokens.verify_access_token``); an API key is looked up. A bearer token wins when
  both are sent.
- ``VerifiedApiKeys`` keeps the keys it looked up in Folio's cache (L1 + Redis L2, keyed
  by a digest of the whole key, tagged with its id) for ``API_KEY_TTL_S``, so a client
  that sends its key with every request costs one database lookup per process and TTL
  rather than one per request. Revoking a key forgets it (``forget``): at once in the
  process that revoked it, within the cache's broadcast delay in the others (its
  ``l1_ttl_s`` bounds a lost message). Refused keys are never kept. Each use is still
  recorded (``last_used_at``, written back in batches).
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
from collections.abc import Callable

from folio.core.cache import Cache, Clock, Entry, LocalCache, WriteBack
from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.errors import AuthenticationRequiredError, InvalidCredentialsError
from folio.core.platform import Slot
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.identity.api_keys import authenticate_api_key, parse_key
from folio.identity.tokens import TokenType, decode_token, verify_access_token

__all__ = [
    "API_KEYS",
    "API_KEYS_CACHE",
    "API_KEY_HEADER",
    "API_KEY_TTL_S",
    "CHALLENGE",
    "RECHECK_S",
    "VerifiedApiKeys",
    "VerifiedTokens",
    "authenticate_credentials",
]

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


API_KEYS_CACHE = "identity.api_keys"
"""The name of the cache ``VerifiedApiKeys`` keeps keys in (its metrics' ``cache`` label)."""

API_KEY_TTL_S = 300.0
"""Longest an API key's lookup is kept (revocation forgets it before then)."""


class VerifiedApiKeys:
    """API keys looked up in the database, kept in a ``Cache`` until revoked (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        cache: Cache,
        *,
        last_used: WriteBack[dt.datetime] | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._db = db
        self._cache = cache
        self._last_used = last_used
        self._clock = clock

    async def principal(self, key: str) -> Principal:
        """The principal ``key`` acts as (``InvalidCredentialsError``: malformed, unknown, wrong, revoked)."""
        tenant_id, key_id, _ = parse_key(key)
        looked_up = False

        async def look_up() -> bytes:
            nonlocal looked_up
            looked_up = True
            found = await authenticate_api_key(self._db, key=key, last_used=self._last_used)
            return found.role.value.encode()

        digest = hashlib.blake2b(key.encode(), digest_size=32, person=b"folio-api-key").hexdigest()
        role = await self._cache.get_or_load(digest, look_up, ttl_s=API_KEY_TTL_S, tags=(_key_tag(key_id),))
        if not looked_up and self._last_used is not None:
            # The lookup records a use itself; a kept key's uses are recorded here.
            await self._last_used.write(f"{tenant_id.hex}:{key_id.hex}", self._clock())
        return Principal(tenant_id=tenant_id, role=Role(role.decode()), api_key_id=key_id, via="api_key")

    async def forget(self, key_id: uuid.UUID) -> None:
        """Drop key ``key_id`` from every process's cache (it was revoked)."""
        await self._cache.invalidate_tag(_key_tag(key_id))


def _key_tag(key_id: uuid.UUID) -> str:
    return f"api-key:{key_id.hex}"


API_KEYS: Slot[VerifiedApiKeys] = Slot("verified API keys")
"""Where the platform keeps its ``VerifiedApiKeys`` (revocation reaches it there)."""


async def authenticate_credentials(
    db: Database,
    settings: Settings,
    *,
    bearer: str | None,
    api_key: str | None,
    tokens: VerifiedTokens | None = None,
    api_keys: VerifiedApiKeys | None = None,
    last_used: WriteBack[dt.datetime] | None = None,
) -> Principal:
    """The caller a bearer token (``Authorization: Bearer``) or an API key proves.

    ``tokens`` remembers verified bearer tokens (the platform's authenticator passes
    one); without it every token is verified afresh. ``api_keys`` keeps looked-up keys
    (without it, every use is a lookup). ``last_used`` writes API keys' last uses back
    in batches (``api_keys.last_used_buffer``); without it, in the lookup.

    Raises:
        AuthenticationRequiredError: neither was sent (401, ``WWW-Authenticate: Bearer``).
        InvalidCredentialsError: the token or key is invalid, expired or revoked (401, same header).
    """
    try:
        if bearer is not None:
            return tokens.principal(bearer) if tokens is not None else verify_access_token(settings, bearer)
        if api_key and api_keys is not None:
            return await api_keys.principal(api_key)
        if api_key:
            return await authenticate_api_key(db, key=api_key, last_used=last_used)
    except InvalidCredentialsError as exc:
        raise InvalidCredentialsError(exc.detail, headers=CHALLENGE) from None
    raise AuthenticationRequiredError(
        f"send an access token (Authorization: Bearer ...) or an API key ({API_KEY_HEADER})",
        headers=CHALLENGE,
    )
