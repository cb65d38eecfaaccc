"""Secret keys: each shop is a Stripe-like account, and its ``sk_test_`` key says which.

A key reads ``sk_test_`` + the shop's id + the key's id (22 base62 characters each) +
a 192-bit secret (33 characters). The shop comes first so the key's row is looked up
inside that shop's tenant scope (row-level security shows a key only to its shop);
only the SHA-256 of the secret is stored (it is random, so a fast hash is enough) and
compared in constant time. The key is shown once, when issued; a revoked key stops
working at once (every call checks it on the primary). Issuing and revoking are
audited. Only test keys exist: Folio's payments never move money.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit import api as audit
from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.errors import NotFoundError
from folio.core.security import Principal, Role, require_role
from folio.core.tenancy import tenant_filter, tenant_scope
from folio.payments.errors import PaymentsAuthenticationError
from folio.payments.ids import UUID_CHARS, b62decode, b62encode, random_token
from folio.payments.models import SecretKey
from folio.payments.schemas import SecretKeyIssued, SecretKeyRead

__all__ = [
    "KEY_PREFIX",
    "OWNER_ONLY",
    "check_secret_key",
    "create_secret_key",
    "issue_secret_key",
    "list_secret_keys",
    "parse_secret_key",
    "revoke_secret_key",
]

log = structlog.get_logger(__name__)

KEY_PREFIX = "sk_test_"
SECRET_BYTES = 24
SECRET_CHARS = 33
"""Base62 characters of the 192-bit secret."""

OWNER_ONLY = frozenset({Role.OWNER})
_UNKNOWN_HASH = hashlib.sha256(b"folio-no-such-payments-key").hexdigest()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _refused(key: str) -> PaymentsAuthenticationError:
    shown = f"{key[:8]}{'*' * 4}{key[-4:]}" if len(key) > 12 else "****"  # noqa: PLR2004 - enough to show
    return PaymentsAuthenticationError(f"Invalid API Key provided: {shown}")


def parse_secret_key(key: str) -> tuple[uuid.UUID, uuid.UUID, str]:
    """``(tenant_id, key_id, secret)`` of a key; ``PaymentsAuthenticationError`` when it is not one."""
    if key.startswith("sk_live_"):
        raise PaymentsAuthenticationError("Folio's payments run in test mode only: use an sk_test_ key.")
    body = key.removeprefix(KEY_PREFIX)
    if body == key or len(body) != 2 * UUID_CHARS + SECRET_CHARS:
        raise _refused(key)
    try:
        tenant_id = uuid.UUID(bytes=b62decode(body[:UUID_CHARS], 16))
        key_id = uuid.UUID(bytes=b62decode(body[UUID_CHARS : 2 * UUID_CHARS], 16))
    except ValueError:
        raise _refused(key) from None
    return tenant_id, key_id, body[2 * UUID_CHARS :]


async def check_secret_key(session: AsyncSession, key: str, key_id: uuid.UUID, secret: str) -> None:
    """Raise ``PaymentsAuthenticationError`` unless ``key`` (parsed into ``key_id``, ``secret``) is live.

    Precondition: ``session`` runs in the key's shop's tenant scope. The hash is compared
    even when there is no such key, so timing tells an unknown id from a wrong secret no
    better than the answer does.
    """
    row = (
        await session.scalars(select(SecretKey).where(SecretKey.id == key_id, tenant_filter(SecretKey)))
    ).one_or_none()
    matches = hmac.compare_digest(row.secret_hash if row is not None else _UNKNOWN_HASH, _hash(secret))
    if row is None or not matches or row.revoked_at is not None:
        reason = "unknown" if row is None else "wrong_secret" if not matches else "revoked"
        log.info("payments.key_refused", reason=reason, key_id=str(key_id))
        raise _refused(key)


def _audited(row: SecretKey) -> dict[str, object]:
    return {"name": row.name, "hint": row.hint, "revoked_at": row.revoked_at}


async def issue_secret_key(
    db: Database,
    *,
    tenant_id: uuid.UUID,
    name: str,
    actor_kind: audit.ActorKind,
    actor_id: uuid.UUID | None,
) -> SecretKeyIssued:
    """Issue a secret key for shop ``tenant_id`` (audited ``payments_key.created``), shown this once."""
    key_id = uuid.uuid4()
    secret = random_token(SECRET_BYTES)
    key = f"{KEY_PREFIX}{b62encode(tenant_id.bytes, UUID_CHARS)}{b62encode(key_id.bytes, UUID_CHARS)}{secret}"

    async def work(session: AsyncSession) -> SecretKeyIssued:
        row = SecretKey(
            id=key_id,
            tenant_id=tenant_id,
            name=name,
            secret_hash=_hash(secret),
            hint=key[-4:],
            created_at=utcnow(),
            created_by=actor_id if actor_kind == "user" else None,
        )
        session.add(row)
        await audit.record_event(
            session,
            tenant_id=tenant_id,
            actor_kind=actor_kind,
            actor_id=actor_id,
            action="payments_key.created",
            entity_type="payments_key",
            entity_id=str(key_id),
            after=_audited(row),
        )
        return SecretKeyIssued(**SecretKeyRead.model_validate(row).model_dump(), key=key)

    with tenant_scope(tenant_id):
        return await db.run(work)


async def create_secret_key(db: Database, *, principal: Principal, name: str) -> SecretKeyIssued:
    """Issue a key for the caller's shop: owners only (a key can move the shop's money)."""
    require_role(principal, OWNER_ONLY, action="create payments keys")
    actor_kind, actor_id = audit.actor_of(principal)
    return await issue_secret_key(
        db, tenant_id=principal.tenant_id, name=name, actor_kind=actor_kind, actor_id=actor_id
    )


async def list_secret_keys(db: Database, *, tenant_id: uuid.UUID) -> list[SecretKeyRead]:
    """Shop ``tenant_id``'s keys, revoked ones included, newest first."""

    async def work(session: AsyncSession) -> list[SecretKeyRead]:
        query = select(SecretKey).where(tenant_filter(SecretKey)).order_by(SecretKey.created_at.desc())
        return [SecretKeyRead.model_validate(row) for row in (await session.scalars(query)).all()]

    with tenant_scope(tenant_id):
        return await db.run(work, readonly=True)


async def revoke_secret_key(
    db: Database,
    *,
    tenant_id: uuid.UUID,
    key_id: uuid.UUID,
    actor_kind: audit.ActorKind,
    actor_id: uuid.UUID | None,
) -> SecretKeyRead:
    """Revoke a key at once (audited ``payments_key.revoked``); revoking twice changes nothing.

    Raises ``NotFoundError`` when the shop has no such key.
    """

    async def work(session: AsyncSession) -> SecretKeyRead:
        row = (
            await session.scalars(select(SecretKey).where(SecretKey.id == key_id, tenant_filter(SecretKey)))
        ).one_or_none()
        if row is None:
            raise NotFoundError("no such payments key in this shop")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            await audit.record_event(
                session,
                tenant_id=tenant_id,
                actor_kind=actor_kind,
                actor_id=actor_id,
                action="payments_key.revoked",
                entity_type="payments_key",
                entity_id=str(key_id),
                after=_audited(row),
            )
        return SecretKeyRead.model_validate(row)

    with tenant_scope(tenant_id):
        return await db.run(work)
