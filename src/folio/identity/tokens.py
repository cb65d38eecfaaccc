"""JWT access and refresh tokens: signing with key ids, verification, rotation and reuse detection.

Access tokens are short-lived and stateless: ``verify_access_token`` checks the
signature and claims and touches no database, so a member removed from a shop keeps
API access until their access token expires (``identity.access_ttl_s``, 15 minutes by
default). Refresh tokens are stored (``identity_refresh_tokens``, one row per ``jti``)
and rotate: each use marks the token used and issues a successor in the same family.

Key contracts:

- HS256 only. Tokens are signed with ``identity.jwt_keys[identity.jwt_active_kid]`` and
  carry that key id in the ``kid`` header; verification looks the key up by ``kid`` and
  accepts no other algorithm (``alg: none``, HS512, RS256 key confusion all fail). To
  rotate keys without downtime, add the new key, make it active, and remove the old one
  once every token it signed has expired (``identity.refresh_ttl_s``): until then the
  old key still verifies; after that, its tokens are invalid.
- Claims: ``iss``, ``sub`` (user id), ``tid`` (shop), ``role``, ``typ`` (``access`` or
  ``refresh``), ``jti``, ``iat``, ``exp``, and ``fam`` (rotation family) on refresh
  tokens. A token of the wrong ``typ`` is invalid where the other is expected.
- Every failure is ``InvalidCredentialsError`` (401, one code for every cause); the log
  records the real reason.
- A family lives at most ``identity.refresh_ttl_s`` from the login that started it:
  successors inherit their predecessor's expiry, so rotation never extends a session.
- Presenting a used or revoked refresh token is reuse (a stolen token, or a client
  replaying one): the whole family is revoked, the event audited as
  ``auth.refresh_reuse_detected``, and the caller refused. The revocation is committed
  before the error is raised.
- Refreshing re-reads the member's role: a removed member's refresh fails (and revokes
  the family); a changed role is carried into the new access token.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.api import record_event
from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.errors import InvalidCredentialsError
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.core.tenancy import tenant_filter, tenant_scope
from folio.identity.models import RefreshToken
from folio.identity.repository import IdentityRepository
from folio.identity.schemas import TokenPair
from folio.identity.settings import IdentitySettings

__all__ = [
    "ALGORITHM",
    "TokenClaims",
    "TokenType",
    "decode_token",
    "issue_access_token",
    "issue_token_pair",
    "refresh_token_pair",
    "revoke_refresh_family",
    "verify_access_token",
]

log = structlog.get_logger(__name__)

ALGORITHM = "HS256"
"""The only signing algorithm Folio issues or accepts."""

_REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "typ", "tid"]


class TokenType(enum.StrEnum):
    """The ``typ`` claim: what a token may be used for."""

    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True)
class TokenClaims:
    """The verified claims of a Folio token."""

    user_id: uuid.UUID
    tenant_id: uuid.UUID
    role: Role
    typ: TokenType
    jti: uuid.UUID
    issued_at: dt.datetime
    expires_at: dt.datetime
    family_id: uuid.UUID | None = None


def _rejected(reason: str, **context: object) -> InvalidCredentialsError:
    log.info("auth.token_rejected", reason=reason, **context)
    return InvalidCredentialsError("the token is invalid or has expired")


def _encode(identity: IdentitySettings, claims: dict[str, Any]) -> str:
    kid = identity.jwt_active_kid
    key = identity.jwt_keys[kid].get_secret_value()
    return jwt.encode({"iss": identity.jwt_issuer, **claims}, key, algorithm=ALGORITHM, headers={"kid": kid})


def _timestamp(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _moment(timestamp: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)


def issue_access_token(settings: Settings, principal: Principal, *, now: dt.datetime | None = None) -> str:
    """A signed access token for ``principal`` (a member: ``principal.user_id`` is required).

    ``now`` backdates or postdates the token (tests of expiry); it defaults to the clock.
    """
    if principal.user_id is None:
        raise ValueError("access tokens are issued to members, not API keys")
    issued = now or utcnow()
    return _encode(
        settings.identity,
        {
            "sub": str(principal.user_id),
            "tid": str(principal.tenant_id),
            "role": principal.role.value,
            "typ": TokenType.ACCESS.value,
            "jti": uuid.uuid4().hex,
            "iat": _timestamp(issued),
            "exp": _timestamp(issued) + settings.identity.access_ttl_s,
        },
    )


def _refresh_token(
    settings: Settings,
    *,
    user_id: uuid.UUID,
    tenant_id: uuid.UUID,
    role: Role,
    jti: uuid.UUID,
    family_id: uuid.UUID,
    issued_at: dt.datetime,
    expires_at: dt.datetime,
) -> str:
    return _encode(
        settings.identity,
        {
            "sub": str(user_id),
            "tid": str(tenant_id),
            "role": role.value,
            "typ": TokenType.REFRESH.value,
            "jti": jti.hex,
            "fam": family_id.hex,
            "iat": _timestamp(issued_at),
            "exp": _timestamp(expires_at),
        },
    )


def decode_token(settings: Settings, token: str, *, typ: TokenType, verify_exp: bool = True) -> TokenClaims:
    """Verify ``token`` (signature by ``kid``, HS256, issuer, required claims, ``typ``) and parse it.

    ``verify_exp=False`` accepts an expired token (logout of a stale session); the
    signature is always checked. Raises ``InvalidCredentialsError`` on any failure.
    """
    identity = settings.identity
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise _rejected("malformed", error=str(exc)) from None
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM:
        raise _rejected("algorithm", alg=str(header.get("alg")))
    if not isinstance(kid, str) or kid not in identity.jwt_keys:
        raise _rejected("unknown_kid", kid=str(kid))
    required = [*_REQUIRED_CLAIMS, "role"] + (["fam"] if typ is TokenType.REFRESH else [])
    try:
        payload = jwt.decode(
            token,
            identity.jwt_keys[kid].get_secret_value(),
            algorithms=[ALGORITHM],
            issuer=identity.jwt_issuer,
            options={"require": required, "verify_exp": verify_exp},
        )
    except jwt.ExpiredSignatureError:
        raise _rejected("expired", kid=kid) from None
    except jwt.PyJWTError as exc:
        raise _rejected("invalid", kid=kid, error=str(exc)) from None
    if payload.get("typ") != typ.value:
        raise _rejected("wrong_type", expected=typ.value, got=str(payload.get("typ")))
    try:
        return TokenClaims(
            user_id=uuid.UUID(str(payload["sub"])),
            tenant_id=uuid.UUID(str(payload["tid"])),
            role=Role(payload["role"]),
            typ=typ,
            jti=uuid.UUID(str(payload["jti"])),
            issued_at=_moment(int(payload["iat"])),
            expires_at=_moment(int(payload["exp"])),
            family_id=uuid.UUID(str(payload["fam"])) if typ is TokenType.REFRESH else None,
        )
    except (ValueError, TypeError) as exc:
        raise _rejected("bad_claims", error=str(exc)) from None


def verify_access_token(settings: Settings, token: str) -> Principal:
    """The principal an access token names; stateless (no database).

    Rejects, with ``InvalidCredentialsError``: ``alg`` other than HS256 (``none``
    included), an unknown ``kid``, a bad signature, an expired token, a wrong ``iss``,
    missing claims, and a refresh token.
    """
    claims = decode_token(settings, token, typ=TokenType.ACCESS)
    return Principal(tenant_id=claims.tenant_id, role=claims.role, user_id=claims.user_id, via="token")


async def issue_token_pair(db: Database, *, settings: Settings, principal: Principal) -> TokenPair:
    """A new access token and the first refresh token of a new family (stored).

    Call it once the member has authenticated (a password login). ``principal`` must
    be a member (``user_id`` set); API keys get no tokens.
    """
    if principal.user_id is None:
        raise ValueError("token pairs are issued to members, not API keys")
    user_id = principal.user_id
    now = utcnow().replace(microsecond=0)
    expires_at = now + dt.timedelta(seconds=settings.identity.refresh_ttl_s)
    jti, family_id = uuid.uuid4(), uuid.uuid4()

    async def work(session: AsyncSession) -> None:
        session.add(
            RefreshToken(
                id=jti,
                tenant_id=principal.tenant_id,
                family_id=family_id,
                user_id=user_id,
                issued_at=now,
                expires_at=expires_at,
            )
        )

    with tenant_scope(principal.tenant_id):
        await db.run(work)
    refresh = _refresh_token(
        settings,
        user_id=user_id,
        tenant_id=principal.tenant_id,
        role=principal.role,
        jti=jti,
        family_id=family_id,
        issued_at=now,
        expires_at=expires_at,
    )
    return _pair(settings, principal, refresh, now=now)


def _pair(settings: Settings, principal: Principal, refresh: str, *, now: dt.datetime) -> TokenPair:
    return TokenPair(
        access_token=issue_access_token(settings, principal, now=now),
        refresh_token=refresh,
        expires_in=settings.identity.access_ttl_s,
    )


class _Outcome(enum.Enum):
    ROTATED = "rotated"
    REUSED = "reused"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    NOT_A_MEMBER = "not_a_member"


@dataclass(frozen=True)
class _Rotation:
    outcome: _Outcome
    role: Role | None = None
    successor: uuid.UUID | None = None
    expires_at: dt.datetime | None = None
    revoked: int = 0


async def _revoke_family(session: AsyncSession, *, family_id: uuid.UUID, now: dt.datetime) -> int:
    result = await session.execute(
        update(RefreshToken)
        .where(
            tenant_filter(RefreshToken),
            RefreshToken.family_id == family_id,
            RefreshToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def refresh_token_pair(db: Database, *, settings: Settings, refresh_token: str) -> TokenPair:
    """Exchange a refresh token for a new pair (rotation); the presented token is used up.

    - Valid and unused: it is marked used, the member's current role is read, and a
      successor in the same family (same expiry) is issued with a fresh access token.
    - Used or revoked (reuse): every token of the family is revoked, the event is
      audited as ``auth.refresh_reuse_detected`` and committed, then
      ``InvalidCredentialsError`` is raised, so the thief's successor dies too.
    - The member was removed from the shop: the family is revoked, and
      ``InvalidCredentialsError``.
    - Expired, unknown, tampered or of the wrong type: ``InvalidCredentialsError``.
    """
    claims = decode_token(settings, refresh_token, typ=TokenType.REFRESH)
    family_id = claims.family_id
    if family_id is None:  # pragma: no cover - decode_token requires fam on refresh tokens
        raise _rejected("bad_claims")

    async def work(session: AsyncSession) -> _Rotation:
        now = utcnow().replace(microsecond=0)
        row = (
            await session.execute(
                select(RefreshToken)
                .where(tenant_filter(RefreshToken), RefreshToken.id == claims.jti)
                .with_for_update()
            )
        ).scalar_one_or_none()
        if row is None or row.user_id != claims.user_id or row.family_id != family_id:
            return _Rotation(_Outcome.UNKNOWN)
        if row.used_at is not None or row.revoked_at is not None:
            revoked = await _revoke_family(session, family_id=family_id, now=now)
            await record_event(
                session,
                tenant_id=claims.tenant_id,
                actor_kind="user",
                actor_id=claims.user_id,
                action="auth.refresh_reuse_detected",
                entity_type="refresh_token_family",
                entity_id=str(family_id),
                before=None,
                after={"revoked_tokens": revoked, "presented_jti": str(claims.jti)},
            )
            return _Rotation(_Outcome.REUSED, revoked=revoked)
        if row.expires_at <= now:
            return _Rotation(_Outcome.EXPIRED)
        membership = await IdentityRepository(session).membership(claims.user_id)
        if membership is None:
            revoked = await _revoke_family(session, family_id=family_id, now=now)
            return _Rotation(_Outcome.NOT_A_MEMBER, revoked=revoked)
        row.used_at = now
        successor = uuid.uuid4()
        session.add(
            RefreshToken(
                id=successor,
                tenant_id=claims.tenant_id,
                family_id=family_id,
                user_id=claims.user_id,
                issued_at=now,
                expires_at=row.expires_at,
            )
        )
        return _Rotation(
            _Outcome.ROTATED, role=Role(membership.role), successor=successor, expires_at=row.expires_at
        )

    # The unit of work returns what happened instead of raising: raising inside it would
    # roll back the family's revocation, which must stick.
    with tenant_scope(claims.tenant_id):
        rotation = await db.run(work)
    context = {"tenant_id": str(claims.tenant_id), "user_id": str(claims.user_id), "family": str(family_id)}
    if rotation.outcome is _Outcome.REUSED:
        log.warning("auth.refresh_reuse_detected", revoked=rotation.revoked, **context)
        raise InvalidCredentialsError("the refresh token was already used; sign in again")
    if rotation.outcome is not _Outcome.ROTATED:
        raise _rejected(rotation.outcome.value, **context)
    if rotation.role is None or rotation.successor is None or rotation.expires_at is None:
        raise AssertionError("a rotation carries the role and the successor")  # pragma: no cover
    principal = Principal(tenant_id=claims.tenant_id, role=rotation.role, user_id=claims.user_id, via="token")
    now = utcnow().replace(microsecond=0)
    refresh = _refresh_token(
        settings,
        user_id=claims.user_id,
        tenant_id=claims.tenant_id,
        role=rotation.role,
        jti=rotation.successor,
        family_id=family_id,
        issued_at=now,
        expires_at=rotation.expires_at,
    )
    log.info("auth.refresh_rotated", **context)
    return _pair(settings, principal, refresh, now=now)


async def revoke_refresh_family(db: Database, *, settings: Settings, refresh_token: str) -> None:
    """Log out: revoke every token of the refresh token's family. Idempotent.

    An expired token is accepted (its signature is still checked), so a client can
    always end its session; any later use of the family counts as reuse.
    """
    claims = decode_token(settings, refresh_token, typ=TokenType.REFRESH, verify_exp=False)
    family_id = claims.family_id
    if family_id is None:  # pragma: no cover - decode_token requires fam on refresh tokens
        raise _rejected("bad_claims")

    async def work(session: AsyncSession) -> int:
        return await _revoke_family(session, family_id=family_id, now=utcnow())

    with tenant_scope(claims.tenant_id):
        revoked = await db.run(work)
    log.info(
        "auth.logged_out",
        tenant_id=str(claims.tenant_id),
        user_id=str(claims.user_id),
        family=str(family_id),
        revoked=revoked,
    )
