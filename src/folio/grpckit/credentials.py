"""Signed, short-lived credentials between Folio's services, and the end user's claims they carry.

Two tokens travel in a call's metadata, both JWTs signed with HMAC-SHA256 under keys
derived from the installation's ``grpc.service_keys`` (one derived key per purpose, so
one kind can never be passed off as the other):

- ``authorization: Bearer <service token>``: who calls (``iss``, the calling service's
  name), for whom (``aud``, the service called), until when (``exp``, ``grpc.token_ttl_s``
  after issue, a minute by default). Every call carries one; the server refuses a
  missing, forged, expired or misaddressed one with UNAUTHENTICATED. A client reuses its
  token for half its lifetime, so signing costs nothing per call.
- ``x-folio-principal: <claims>``: the end user the call is made for, as the edge (the
  gateway) authenticated them: shop, user or API key, and how. Claims say *who*, never
  *what they may do*: the called service asks the users service for the current role.

Key contracts: a token is accepted ``LEEWAY_S`` past its ``exp`` at most (clocks of two
machines); the key id travels in the header (``kid``), so keys rotate without downtime.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast, get_args

import jwt

from folio.core.errors import AuthenticationRequiredError, InvalidCredentialsError
from folio.core.security import CredentialKind
from folio.core.settings.grpc import GrpcSettings

__all__ = [
    "LEEWAY_S",
    "PRINCIPAL_METADATA_KEY",
    "SERVICE_TOKEN_METADATA_KEY",
    "CallerClaims",
    "ServiceClaims",
    "ServiceCredentials",
]

SERVICE_TOKEN_METADATA_KEY = "authorization"  # noqa: S105 - a metadata key, not a secret
PRINCIPAL_METADATA_KEY = "x-folio-principal"
LEEWAY_S = 5
"""Seconds past ``exp`` a token is still accepted."""

_ALGORITHM = "HS256"
_SERVICE_PURPOSE = b"folio.grpc.service-token.v1"
_PRINCIPAL_PURPOSE = b"folio.grpc.principal-claims.v1"
_VERIFIED_CACHE = 4096
"""Tokens whose verification is remembered (until they expire), per purpose."""

Clock = Callable[[], float]


@dataclass(frozen=True)
class ServiceClaims:
    """A verified service token: who called, and until when the token holds."""

    issuer: str
    audience: str
    expires_at: float


@dataclass(frozen=True)
class CallerClaims:
    """A verified end user's claims: who the call is made for (not what they may do)."""

    tenant_id: uuid.UUID
    user_id: uuid.UUID | None
    api_key_id: uuid.UUID | None
    via: CredentialKind
    issuer: str


class ServiceCredentials:
    """Signs and verifies this process's service tokens and end users' claims.

    ``service`` is this process's name (the ``iss`` of what it signs, the ``aud`` it
    accepts). Thread-safe enough for one event loop; caches are bounded.
    """

    def __init__(self, settings: GrpcSettings, *, service: str, clock: Clock = time.time) -> None:
        self.service = service
        self._ttl = settings.token_ttl_s
        self._clock = clock
        self._active = settings.service_active_kid
        self._keys = {
            purpose: {
                kid: hmac.new(key.get_secret_value().encode(), purpose, hashlib.sha256).digest()
                for kid, key in settings.service_keys.items()
            }
            for purpose in (_SERVICE_PURPOSE, _PRINCIPAL_PURPOSE)
        }
        self._issued: dict[str, tuple[str, float]] = {}
        self._verified: dict[bytes, OrderedDict[str, tuple[Any, float]]] = {
            _SERVICE_PURPOSE: OrderedDict(),
            _PRINCIPAL_PURPOSE: OrderedDict(),
        }

    # --- signing ------------------------------------------------------------------------------

    def _sign(self, purpose: bytes, claims: dict[str, Any]) -> str:
        now = int(self._clock())
        payload = {"iss": self.service, "iat": now, "exp": now + self._ttl, **claims}
        key = self._keys[purpose][self._active]
        return jwt.encode(payload, key, algorithm=_ALGORITHM, headers={"kid": self._active})

    def service_token(self, audience: str) -> str:
        """A service token for calls to ``audience``; the same one for half its lifetime."""
        cached = self._issued.get(audience)
        now = self._clock()
        if cached is not None and cached[1] > now:
            return cached[0]
        token = self._sign(_SERVICE_PURPOSE, {"aud": audience})
        self._issued[audience] = (token, now + self._ttl / 2)
        return token

    def caller_claims(
        self,
        audience: str,
        *,
        tenant_id: uuid.UUID,
        user_id: uuid.UUID | None,
        api_key_id: uuid.UUID | None,
        via: CredentialKind,
    ) -> str:
        """Signed claims that the call to ``audience`` is made for this end user."""
        if user_id is None and api_key_id is None:
            raise ValueError("an end user is a user or an API key")
        claims: dict[str, Any] = {"aud": audience, "tid": str(tenant_id), "via": via}
        if user_id is not None:
            claims["sub"] = str(user_id)
        if api_key_id is not None:
            claims["key"] = str(api_key_id)
        return self._sign(_PRINCIPAL_PURPOSE, claims)

    # --- verifying ----------------------------------------------------------------------------

    def _decode(self, purpose: bytes, token: str) -> dict[str, Any]:
        """The verified payload of ``token`` (signature, ``aud`` = this service, not expired)."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._keys[purpose].get(kid) if isinstance(kid, str) else None
            if key is None:
                raise InvalidCredentialsError("the token names no known key")
            # Expiry is checked below against this object's clock (PyJWT reads the system's).
            payload: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[_ALGORITHM],
                audience=self.service,
                options={"require": ["iss", "aud", "exp", "iat"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidCredentialsError(f"the token is not valid: {exc}") from None
        expires = payload["exp"]
        if not isinstance(expires, int | float) or expires + LEEWAY_S < self._clock():
            raise InvalidCredentialsError("the token has expired")
        return payload

    def _verified_payload(self, purpose: bytes, token: str, parse: Callable[[dict[str, Any]], Any]) -> Any:
        """``parse`` of the verified payload, remembered until the token expires (bounded LRU)."""
        cache = self._verified[purpose]
        hit = cache.get(token)
        now = self._clock()
        if hit is not None and hit[1] + LEEWAY_S > now:
            cache.move_to_end(token)
            return hit[0]
        payload = self._decode(purpose, token)
        parsed = parse(payload)
        cache[token] = (parsed, float(payload["exp"]))
        if len(cache) > _VERIFIED_CACHE:
            cache.popitem(last=False)
        return parsed

    def verify_service_token(self, metadata_value: str | None) -> ServiceClaims:
        """The claims of an ``authorization: Bearer`` value addressed to this service.

        Raises ``AuthenticationRequiredError`` when there is none and
        ``InvalidCredentialsError`` when it is forged, expired or for another service.
        """
        if not metadata_value:
            raise AuthenticationRequiredError("the call carries no service token")
        scheme, _, token = metadata_value.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise InvalidCredentialsError("the service token is not a bearer token")

        def parse(payload: dict[str, Any]) -> ServiceClaims:
            return ServiceClaims(
                issuer=str(payload["iss"]), audience=self.service, expires_at=float(payload["exp"])
            )

        claims: ServiceClaims = self._verified_payload(_SERVICE_PURPOSE, token, parse)
        return claims

    def verify_caller_claims(self, token: str) -> CallerClaims:
        """The end user ``token`` (signed claims addressed to this service) names.

        Raises ``InvalidCredentialsError`` when it is forged, expired, for another
        service, or malformed.
        """

        def parse(payload: dict[str, Any]) -> CallerClaims:
            via = payload.get("via")
            try:
                user = uuid.UUID(payload["sub"]) if "sub" in payload else None
                key = uuid.UUID(payload["key"]) if "key" in payload else None
                tenant = uuid.UUID(payload["tid"])
            except (KeyError, TypeError, ValueError):
                raise InvalidCredentialsError("the caller's claims are malformed") from None
            if (user is None and key is None) or via not in get_args(CredentialKind):
                raise InvalidCredentialsError("the caller's claims are malformed")
            return CallerClaims(
                tenant_id=tenant,
                user_id=user,
                api_key_id=key,
                via=cast("CredentialKind", via),
                issuer=str(payload["iss"]),
            )

        claims: CallerClaims = self._verified_payload(_PRINCIPAL_PURPOSE, token, parse)
        return claims
