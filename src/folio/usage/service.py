"""Usage use cases: quotas checked before a change, meters recorded with it, read back per shop.

``enforce_quota`` and ``record_usage`` take the caller's session: they run in the
caller's transaction, so a refused change records nothing and a recorded one commits
with its change. ``record_usage`` is an upsert (PostgreSQL and SQLite both speak
``INSERT ... ON CONFLICT DO UPDATE``), so concurrent writers never lose an increment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.columns import utcnow
from folio.core.db import Database, note_after_commit
from folio.core.errors import InvalidParam, QuotaExceededError, ValidationFailedError
from folio.core.security import MANAGER_ROLES, Principal, require_role
from folio.core.settings import Settings
from folio.core.tenancy import tenant_filter, tenant_scope
from folio.usage.models import QuotaOverride, UsageDaily
from folio.usage.schemas import Meter, QuotaRead, UsageRead

__all__ = [
    "MAX_USAGE_DAYS",
    "QuotaChanged",
    "claim_quota",
    "default_limit",
    "enforce_quota",
    "get_quotas",
    "get_tenant_quotas",
    "get_tenant_usage",
    "get_usage",
    "quota_limit",
    "record_usage",
    "set_quota_override",
    "store_usage_total",
]

MAX_USAGE_DAYS = 366
"""The longest history ``get_usage`` returns."""


def default_limit(settings: Settings, meter: Meter) -> int:
    """The plan's limit for ``meter`` from ``tenancy.quotas`` (before any override)."""
    quotas = settings.tenancy.quotas
    limits = {
        Meter.TASKS: quotas.tasks,
        Meter.MEMBERS: quotas.members,
        Meter.API_CALLS: quotas.api_calls_per_day,
        Meter.STORAGE_BYTES: quotas.storage_bytes,
        Meter.LISTINGS: quotas.listings,
    }
    return limits[meter]


def today() -> dt.date:
    """The current UTC day: meters roll over at midnight UTC for every shop."""
    return utcnow().date()


async def _overrides(session: AsyncSession, tenant_id: uuid.UUID) -> dict[Meter, int]:
    rows = await session.execute(
        select(QuotaOverride.meter, QuotaOverride.quota_limit).where(QuotaOverride.tenant_id == tenant_id)
    )
    return {Meter(meter): limit for meter, limit in rows}


async def quota_limit(
    session: AsyncSession, *, settings: Settings, tenant_id: uuid.UUID, meter: Meter
) -> int:
    """The shop's limit for ``meter``: its override when it has one, else the plan default."""
    override = await session.scalar(
        select(QuotaOverride.quota_limit).where(
            QuotaOverride.tenant_id == tenant_id, QuotaOverride.meter == meter.value
        )
    )
    return override if override is not None else default_limit(settings, meter)


async def lock_quota(session: AsyncSession, *, tenant_id: uuid.UUID, meter: Meter) -> None:
    """Serialise quota checks of one shop's ``meter`` until this transaction ends.

    Call it before counting what is in use: two transactions that count and then add
    would otherwise both see room for one more and both add. On PostgreSQL it takes a
    transaction-scoped advisory lock keyed by shop and meter, so creations in other
    shops never wait. SQLite allows one writer at a time, and a transaction whose
    snapshot went stale by the time it writes fails (busy) rather than overshooting.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(f"quota:{tenant_id}:{meter.value}".encode(), digest_size=8).digest()
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:key)"), {"key": int.from_bytes(digest, "big", signed=True)}
    )


async def enforce_quota(
    session: AsyncSession,
    *,
    settings: Settings,
    tenant_id: uuid.UUID,
    meter: Meter,
    in_use: int,
    adding: int = 1,
) -> None:
    """Raise ``QuotaExceededError`` (403 ``quota-exceeded``) unless ``in_use + adding`` fits the quota.

    Precondition: the caller took ``lock_quota`` and then counted ``in_use`` (its tasks,
    its members) in this same transaction, inside ``tenant_scope(tenant_id)``. The problem carries ``meter``,
    ``limit`` and ``in_use`` so a client can say which quota is full.
    """
    limit = await quota_limit(session, settings=settings, tenant_id=tenant_id, meter=meter)
    if in_use + adding > limit:
        raise QuotaExceededError(
            f"the shop's {meter.value} quota is {limit} and {in_use} are in use; "
            "ask the shop's owner to raise it or free some first",
            meter=meter.value,
            limit=limit,
            in_use=in_use,
        )


async def claim_quota(
    session: AsyncSession,
    *,
    settings: Settings,
    tenant_id: uuid.UUID,
    meter: Meter,
    count_in_use: Callable[[], Awaitable[int]],
) -> None:
    """Make room for one more of ``meter`` in this transaction, or raise ``QuotaExceededError``.

    The safe order in one call: ``lock_quota``, then ``count_in_use()`` (what the shop
    holds now, counted in ``session``), then ``enforce_quota``. Precondition: ``session``
    runs inside ``tenant_scope(tenant_id)``, and the caller adds the one thing in this
    same transaction (the lock holds until it ends).
    """
    await lock_quota(session, tenant_id=tenant_id, meter=meter)
    await enforce_quota(
        session, settings=settings, tenant_id=tenant_id, meter=meter, in_use=await count_in_use()
    )


def _upsert(session: AsyncSession, values: dict[str, Any]) -> Any:
    """An ``INSERT`` of ``usage_daily`` in the session's dialect, ready for ``on_conflict_do_update``."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(UsageDaily).values(**values)


_USAGE_KEY = ["tenant_id", "meter", "day"]


async def record_usage(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    meter: Meter,
    quantity: int = 1,
    day: dt.date | None = None,
) -> None:
    """Add ``quantity`` to the shop's meter for ``day`` (default today, UTC), in the caller's transaction.

    One atomic upsert: concurrent calls add up, never overwrite each other.
    """
    now = utcnow()
    insert = _upsert(
        session,
        {
            "tenant_id": tenant_id,
            "meter": meter.value,
            "day": day or now.date(),
            "quantity": quantity,
            "updated_at": now,
        },
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=_USAGE_KEY,
            set_={"quantity": UsageDaily.quantity + insert.excluded.quantity, "updated_at": now},
        )
    )


async def store_usage_total(
    session: AsyncSession, *, tenant_id: uuid.UUID, meter: Meter, day: dt.date, quantity: int
) -> None:
    """Set the shop's meter for ``day`` to the absolute ``quantity`` (never lowering it).

    For counters kept elsewhere (API calls in Redis) and copied in periodically: writing
    the same total twice changes nothing, and a counter lost with its cache cannot make
    the recorded day shrink.
    """
    now = utcnow()
    insert = _upsert(
        session,
        {"tenant_id": tenant_id, "meter": meter.value, "day": day, "quantity": quantity, "updated_at": now},
    )
    larger = (
        func.greatest(UsageDaily.quantity, insert.excluded.quantity)
        if session.get_bind().dialect.name == "postgresql"
        else func.max(UsageDaily.quantity, insert.excluded.quantity)
    )
    await session.execute(
        insert.on_conflict_do_update(index_elements=_USAGE_KEY, set_={"quantity": larger, "updated_at": now})
    )


async def get_tenant_usage(
    db: Database, *, tenant_id: uuid.UUID, days: int = 30, meter: Meter | None = None
) -> list[UsageRead]:
    """The shop's usage over the last ``days`` UTC days (today included), newest first (operators, CLI)."""
    if not 1 <= days <= MAX_USAGE_DAYS:
        raise ValidationFailedError(
            f"days must be between 1 and {MAX_USAGE_DAYS}",
            errors=[InvalidParam(name="query.days", reason=f"must be between 1 and {MAX_USAGE_DAYS}")],
        )
    since = today() - dt.timedelta(days=days - 1)

    async def work(session: AsyncSession) -> list[UsageRead]:
        query = select(UsageDaily).where(tenant_filter(UsageDaily), UsageDaily.day >= since)
        if meter is not None:
            query = query.where(UsageDaily.meter == meter.value)
        rows = await session.scalars(query.order_by(UsageDaily.day.desc(), UsageDaily.meter))
        return [UsageRead.model_validate(row) for row in rows]

    with tenant_scope(tenant_id):
        return await db.run(work, readonly=True)


async def get_usage(
    db: Database, *, principal: Principal, days: int = 30, meter: Meter | None = None
) -> list[UsageRead]:
    """The caller's shop's usage over the last ``days`` days, newest first; managers only."""
    require_role(principal, MANAGER_ROLES, action="read the shop's usage")
    return await get_tenant_usage(db, tenant_id=principal.tenant_id, days=days, meter=meter)


async def get_tenant_quotas(db: Database, *, settings: Settings, tenant_id: uuid.UUID) -> list[QuotaRead]:
    """Every meter's limit for the shop, with today's API calls as their ``in_use`` (operators, CLI)."""
    day = today()

    async def work(session: AsyncSession) -> list[QuotaRead]:
        overrides = await _overrides(session, tenant_id)
        api_calls = await session.scalar(
            select(UsageDaily.quantity).where(
                tenant_filter(UsageDaily), UsageDaily.meter == Meter.API_CALLS.value, UsageDaily.day == day
            )
        )
        return [
            QuotaRead(
                meter=meter,
                limit=overrides.get(meter, default_limit(settings, meter)),
                in_use=(api_calls or 0) if meter is Meter.API_CALLS else None,
                overridden=meter in overrides,
            )
            for meter in Meter
        ]

    with tenant_scope(tenant_id):
        return await db.run(work, readonly=True)


async def get_quotas(db: Database, *, settings: Settings, principal: Principal) -> list[QuotaRead]:
    """The caller's shop's quotas; managers only."""
    require_role(principal, MANAGER_ROLES, action="read the shop's quotas")
    return await get_tenant_quotas(db, settings=settings, tenant_id=principal.tenant_id)


@dataclass(frozen=True)
class QuotaChanged:
    """The after-commit note of ``set_quota_override``: caches of the shop's limits are stale."""

    tenant_id: uuid.UUID
    meter: Meter


async def set_quota_override(db: Database, *, tenant_id: uuid.UUID, meter: Meter, limit: int | None) -> None:
    """Give the shop its own ``limit`` for ``meter``; ``None`` returns it to the plan default.

    An operator's action (``folio tenants quota set``): no principal, no role check.
    Notes ``QuotaChanged`` with the commit (``folio.core.db.note_after_commit``).
    """
    if limit is not None and limit < 0:
        raise ValidationFailedError(
            "a quota cannot be negative", errors=[InvalidParam(name="limit", reason="must be 0 or more")]
        )

    async def work(session: AsyncSession) -> None:
        # By query, not session.get: the ORM's primary key is only the meter (the tenant
        # comes from the TenantOwned mixin), while the table's is (tenant_id, meter).
        existing = await session.scalar(
            select(QuotaOverride).where(tenant_filter(QuotaOverride), QuotaOverride.meter == meter.value)
        )
        if limit is None:
            if existing is not None:
                await session.delete(existing)
        elif existing is None:
            session.add(
                QuotaOverride(tenant_id=tenant_id, meter=meter.value, quota_limit=limit, updated_at=utcnow())
            )
        else:
            existing.quota_limit = limit
            existing.updated_at = utcnow()
        note_after_commit(session, QuotaChanged(tenant_id, meter))

    with tenant_scope(tenant_id):
        await db.run(work)
