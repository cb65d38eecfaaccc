"""API keys: a shop's credentials for programs, acting with a fixed role.

A key reads ``folio_<tenant id hex>_<key id hex>_<secret>``: the shop comes first so
the lookup can run inside that shop's tenant scope (row-level security shows a key
only to its own shop), and a key naming another shop simply finds nothing. Only the
SHA-256 of the secret is stored (the secret is 256 random bits, so a fast hash is
enough) and compared in constant time; the whole key is shown once, at creation.
Managers create, list and revoke keys; a revoked key authenticates no more.

``last_used_at`` may be written back (``last_used_buffer``): uses collect in the
process and reach the table in batches, one statement per shop every
``LAST_USED_FLUSH_S``. A process killed loses at most that much of it, which this field
(shown to the minute, never enforced) can afford: see docs/caching.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Mapping
from typing import Any, cast

import structlog
from sqlalchemy import Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from folio.audit.api import record_change_event
from folio.core.cache import WriteBack
from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.errors import InvalidCredentialsError, NotFoundError
from folio.core.security import MANAGER_ROLES, Principal, Role, require_role
from folio.core.tenancy import tenant_scope
from folio.identity.clock import Clock
from folio.identity.models import ApiKey
from folio.identity.repository import IdentityRepository
from folio.identity.schemas import ApiKeyCreate, ApiKeyIssued, ApiKeyRead

__all__ = [
    "KEY_PREFIX",
    "authenticate_api_key",
    "create_api_key",
    "last_used_buffer",
    "list_api_keys",
    "principal_for_api_key",
    "record_api_keys_used",
    "revoke_api_key",
]

log = structlog.get_logger(__name__)

KEY_PREFIX = "folio"
"""First segment of every key (lets secret scanners recognise a leaked one)."""

LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
"""``last_used_at`` is written at most this often per key: a busy key must not write on every call."""

LAST_USED_FLUSH_S = 10.0
"""How often written-back last uses reach the table: the most a killed process loses."""

SECRET_BYTES = 32

_HEX_ID = re.compile(r"[0-9a-f]{32}")
_UNKNOWN_SECRET_HASH = hashlib.sha256(b"folio-no-such-key").hexdigest()


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def format_key(tenant_id: uuid.UUID, key_id: uuid.UUID, secret: str) -> str:
    """The key as handed out: prefix, shop, key id and secret joined by ``_``."""
    return f"{KEY_PREFIX}_{tenant_id.hex}_{key_id.hex}_{secret}"


def parse_key(key: str) -> tuple[uuid.UUID, uuid.UUID, str]:
    """``(tenant_id, key_id, secret)`` of a key; ``InvalidCredentialsError`` when it is malformed."""
    # The secret is URL-safe base64 and may itself contain '_': split three times only.
    parts = key.strip().split("_", 3)
    if len(parts) != 4 or parts[0] != KEY_PREFIX or not parts[3]:  # noqa: PLR2004 - the key's four segments
        raise InvalidCredentialsError("the API key is not valid")
    _, tenant_hex, key_hex, secret = parts
    if not (_HEX_ID.fullmatch(tenant_hex) and _HEX_ID.fullmatch(key_hex)):
        raise InvalidCredentialsError("the API key is not valid")
    return uuid.UUID(hex=tenant_hex), uuid.UUID(hex=key_hex), secret


def _audited_state(key: ApiKey) -> dict[str, Any]:
    """What the audit trail records of a key (never its secret or hash)."""
    return {"name": key.name, "role": key.role, "revoked_at": key.revoked_at}


async def create_api_key(db: Database, *, principal: Principal, data: ApiKeyCreate) -> ApiKeyIssued:
    """Create a key for the principal's shop (managers; audited ``api_key.created``), shown this once."""
    require_role(principal, MANAGER_ROLES, action="create API keys")
    key_id, secret = uuid.uuid4(), secrets.token_urlsafe(SECRET_BYTES)

    async def work(session: AsyncSession) -> ApiKeyIssued:
        row = ApiKey(
            id=key_id,
            tenant_id=principal.tenant_id,
            name=data.name,
            role=data.role.value,
            secret_hash=_secret_hash(secret),
            created_by=principal.user_id,
            created_at=utcnow(),
        )
        IdentityRepository(session).add(row)
        await record_change_event(
            session,
            principal,
            action="api_key.created",
            entity_type="api_key",
            entity_id=row.id,
            after=_audited_state(row),
        )
        return ApiKeyIssued(
            **ApiKeyRead.model_validate(row).model_dump(), key=format_key(principal.tenant_id, key_id, secret)
        )

    with tenant_scope(principal.tenant_id):
        return await db.run(work)


async def list_api_keys(db: Database, *, principal: Principal) -> list[ApiKeyRead]:
    """The shop's keys, revoked ones included, newest first (managers only)."""
    require_role(principal, MANAGER_ROLES, action="list API keys")

    async def work(session: AsyncSession) -> list[ApiKeyRead]:
        return [ApiKeyRead.model_validate(row) for row in await IdentityRepository(session).api_keys()]

    with tenant_scope(principal.tenant_id):
        return await db.run(work, readonly=True)


async def revoke_api_key(db: Database, *, principal: Principal, key_id: uuid.UUID) -> ApiKeyRead:
    """Revoke key ``key_id`` at once (managers; audited ``api_key.revoked``); revoking twice changes nothing.

    Raises ``NotFoundError`` when the shop has no such key.
    """
    require_role(principal, MANAGER_ROLES, action="revoke API keys")

    async def work(session: AsyncSession) -> ApiKeyRead:
        row = await IdentityRepository(session).api_key(key_id)
        if row is None:
            raise NotFoundError("no such API key in this shop")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            await record_change_event(
                session,
                principal,
                action="api_key.revoked",
                entity_type="api_key",
                entity_id=row.id,
                after=_audited_state(row),
            )
        return ApiKeyRead.model_validate(row)

    with tenant_scope(principal.tenant_id):
        return await db.run(work)


async def authenticate_api_key(
    db: Database, *, key: str, clock: Clock = utcnow, last_used: WriteBack[dt.datetime] | None = None
) -> Principal:
    """The principal a key acts as: its shop and role, ``via="api_key"``.

    Reads the primary, so a revocation takes effect at once. When the recorded
    ``last_used_at`` is older than ``LAST_USED_RESOLUTION`` the use is recorded: in
    ``last_used`` (``last_used_buffer``) when given, else in the same unit.

    Raises:
        InvalidCredentialsError: malformed, unknown (in the shop it names), wrong secret, or revoked.
    """
    tenant_id, key_id, secret = parse_key(key)
    now = clock()
    used = False

    async def work(session: AsyncSession) -> Principal:
        nonlocal used
        row = await IdentityRepository(session).api_key(key_id)
        # Compared even when there is no row, so timing does not tell unknown ids from wrong secrets.
        matches = hmac.compare_digest(row.secret_hash if row else _UNKNOWN_SECRET_HASH, _secret_hash(secret))
        if row is None or not matches or row.revoked_at is not None:
            reason = "unknown" if row is None else "wrong_secret" if not matches else "revoked"
            log.info("auth.api_key_refused", reason=reason, tenant_id=str(tenant_id), key_id=str(key_id))
            raise InvalidCredentialsError("the API key is not valid")
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            used = True
            if last_used is None:
                row.last_used_at = now
        return Principal(tenant_id=tenant_id, role=Role(row.role), api_key_id=row.id, via="api_key")

    with tenant_scope(tenant_id):
        principal = await db.run(work)
    if used and last_used is not None:
        await last_used.write(f"{tenant_id.hex}:{key_id.hex}", now)
    return principal


async def principal_for_api_key(db: Database, *, tenant_id: uuid.UUID, key_id: uuid.UUID) -> Principal:
    """The principal API key ``key_id`` of shop ``tenant_id`` acts as now, with its current role.

    For a service that was told which key a call is made with (the gRPC users
    service): reads the primary, so a revocation counts at once. Raises
    ``NotFoundError`` when the shop has no such key or it is revoked.
    """

    async def work(session: AsyncSession) -> Principal:
        row = await IdentityRepository(session).api_key(key_id)
        if row is None or row.revoked_at is not None:
            raise NotFoundError("no such live API key in this shop")
        return Principal(tenant_id=tenant_id, role=Role(row.role), api_key_id=row.id, via="api_key")

    with tenant_scope(tenant_id):
        return await db.run(work)


def last_used_buffer(db: Database) -> WriteBack[dt.datetime]:
    """A write-back buffer of API keys' last uses for ``authenticate_api_key`` (its owner closes it)."""

    async def flush(batch: Mapping[str, dt.datetime]) -> None:
        await record_api_keys_used(db, batch)

    return WriteBack("api_key_last_used", flush, max_batch=500, interval_s=LAST_USED_FLUSH_S)


async def record_api_keys_used(db: Database, uses: Mapping[str, dt.datetime]) -> None:
    """Set ``last_used_at`` of each key in ``uses`` (``"<tenant hex>:<key hex>"``), one statement per shop.

    A key deleted meanwhile is skipped. Shops are written one unit each: if one fails,
    the earlier ones stay written and the buffer retries them all (the write is idempotent).
    """
    by_shop: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for name, used_at in uses.items():
        tenant_hex, key_hex = name.split(":")
        by_shop.setdefault(uuid.UUID(hex=tenant_hex), []).append(
            {"key_id": uuid.UUID(hex=key_hex), "used_at": used_at}
        )
    for tenant_id, rows in by_shop.items():

        async def work(session: AsyncSession, rows: list[dict[str, Any]] = rows) -> None:
            # On the table, not the entity: the ORM's bulk UPDATE fails a batch whose key is gone.
            table = cast("Table", ApiKey.__table__)  # declared as a FromClause; it is a Table
            statement = update(table).where(table.c.id == bindparam("key_id"))
            await session.execute(statement.values(last_used_at=bindparam("used_at")), rows)

        with tenant_scope(tenant_id):
            await db.run(work)
