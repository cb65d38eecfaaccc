"""Quotas and meters on both backends: overrides, upserts, the API-call flush, role checks."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import Database, read_your_writes_scope
from folio.core.errors import PermissionDeniedError, QuotaExceededError, ValidationFailedError
from folio.core.ratelimit import RateLimiter
from folio.core.security import Role
from folio.core.settings import Settings
from folio.core.tenancy import tenant_scope
from folio.usage.api import (
    ApiCallMeter,
    Meter,
    claim_quota,
    enforce_quota,
    get_quotas,
    get_tenant_usage,
    get_usage,
    record_usage,
    set_quota_override,
)
from folio.usage.service import store_usage_total
from tests.support.identity import create_member

pytestmark = pytest.mark.integration


async def _record(db: Database, tenant_id: uuid.UUID, meter: Meter, quantity: int = 1) -> None:
    async def work(session: AsyncSession) -> None:
        await record_usage(session, tenant_id=tenant_id, meter=meter, quantity=quantity)

    with tenant_scope(tenant_id):
        await db.run(work)


async def _enforce(
    db: Database, settings: Settings, tenant_id: uuid.UUID, in_use: int, adding: int = 1
) -> None:
    async def work(session: AsyncSession) -> None:
        await enforce_quota(
            session, settings=settings, tenant_id=tenant_id, meter=Meter.TASKS, in_use=in_use, adding=adding
        )

    with tenant_scope(tenant_id):
        await db.run(work)


async def test_record_usage_adds_up_even_concurrently(any_database: Database) -> None:
    """Concurrent increments of one day's meter all count (the upsert never loses one)."""
    owner = await create_member(any_database)
    await asyncio.gather(*(_record(any_database, owner.tenant_id, Meter.TASKS) for _ in range(8)))
    await _record(any_database, owner.tenant_id, Meter.TASKS, quantity=5)
    with read_your_writes_scope():
        usage = await get_usage(any_database, principal=owner)
    assert [(u.meter, u.quantity) for u in usage] == [(Meter.TASKS, 13)]
    assert usage[0].day == dt.datetime.now(dt.UTC).date()


async def test_enforce_quota_uses_the_default_then_the_override(
    any_database: Database, settings: Settings
) -> None:
    """The plan's limit applies until the shop gets its own; the problem names meter, limit and use."""
    owner = await create_member(any_database)
    default = settings.tenancy.quotas.tasks
    await _enforce(any_database, settings, owner.tenant_id, in_use=default - 1)
    with pytest.raises(QuotaExceededError):
        await _enforce(any_database, settings, owner.tenant_id, in_use=default)
    await set_quota_override(any_database, tenant_id=owner.tenant_id, meter=Meter.TASKS, limit=3)
    await _enforce(any_database, settings, owner.tenant_id, in_use=1, adding=2)
    with pytest.raises(QuotaExceededError) as caught:
        await _enforce(any_database, settings, owner.tenant_id, in_use=3)
    assert caught.value.extra == {"meter": "tasks", "limit": 3, "in_use": 3}
    await set_quota_override(any_database, tenant_id=owner.tenant_id, meter=Meter.TASKS, limit=None)
    await _enforce(any_database, settings, owner.tenant_id, in_use=3)


async def test_claim_quota_counts_after_the_lock_and_checks_one_more(
    any_database: Database, settings: Settings
) -> None:
    """``claim_quota`` counts what is in use inside the transaction and refuses the one past the limit."""
    owner = await create_member(any_database)
    await set_quota_override(any_database, tenant_id=owner.tenant_id, meter=Meter.TASKS, limit=2)
    counted: list[int] = []

    async def claim(in_use: int) -> None:
        async def count() -> int:
            counted.append(in_use)
            return in_use

        async def work(session: AsyncSession) -> None:
            await claim_quota(
                session, settings=settings, tenant_id=owner.tenant_id, meter=Meter.TASKS, count_in_use=count
            )

        with tenant_scope(owner.tenant_id):
            await any_database.run(work)

    await claim(1)
    with pytest.raises(QuotaExceededError) as caught:
        await claim(2)
    assert caught.value.extra == {"meter": "tasks", "limit": 2, "in_use": 2}
    assert counted == [1, 2]


async def test_override_is_per_shop(any_database: Database, settings: Settings) -> None:
    """One shop's override leaves another shop on the plan's limit."""
    shop_a = await create_member(any_database)
    shop_b = await create_member(any_database)
    await set_quota_override(any_database, tenant_id=shop_a.tenant_id, meter=Meter.TASKS, limit=0)
    with pytest.raises(QuotaExceededError):
        await _enforce(any_database, settings, shop_a.tenant_id, in_use=0)
    await _enforce(any_database, settings, shop_b.tenant_id, in_use=0)


async def test_quotas_list_every_meter(any_database: Database, settings: Settings) -> None:
    """get_quotas lists each meter with its limit, whether overridden, and today's API calls."""
    owner = await create_member(any_database)
    await set_quota_override(any_database, tenant_id=owner.tenant_id, meter=Meter.MEMBERS, limit=7)
    await set_quota_override(any_database, tenant_id=owner.tenant_id, meter=Meter.MEMBERS, limit=9)
    await _record(any_database, owner.tenant_id, Meter.API_CALLS, quantity=4)
    with read_your_writes_scope():
        quotas = {q.meter: q for q in await get_quotas(any_database, settings=settings, principal=owner)}
    assert set(quotas) == set(Meter)
    assert (quotas[Meter.MEMBERS].limit, quotas[Meter.MEMBERS].overridden) == (9, True)
    assert (quotas[Meter.TASKS].limit, quotas[Meter.TASKS].overridden) == (
        settings.tenancy.quotas.tasks,
        False,
    )
    assert quotas[Meter.API_CALLS].in_use == 4
    assert quotas[Meter.TASKS].in_use is None


async def test_negative_override_is_refused(any_database: Database) -> None:
    """A quota below zero is a validation problem."""
    with pytest.raises(ValidationFailedError):
        await set_quota_override(any_database, tenant_id=uuid.uuid4(), meter=Meter.TASKS, limit=-1)


@pytest.mark.parametrize("role", [Role.STAFF, Role.CUSTOMER])
async def test_only_managers_read_usage_and_quotas(
    any_database: Database, settings: Settings, role: Role
) -> None:
    """Staff and customers are refused usage and quotas (403)."""
    owner = await create_member(any_database)
    member = await create_member(any_database, role=role, tenant_id=owner.tenant_id)
    with pytest.raises(PermissionDeniedError):
        await get_usage(any_database, principal=member)
    with pytest.raises(PermissionDeniedError):
        await get_quotas(any_database, settings=settings, principal=member)


async def test_usage_window_and_days_bounds(any_database: Database) -> None:
    """Usage lists the last N days, newest first; days outside 1..366 are refused."""
    owner = await create_member(any_database)
    today = dt.datetime.now(dt.UTC).date()

    async def work(session: AsyncSession) -> None:
        for back in (0, 1, 5):
            await record_usage(
                session, tenant_id=owner.tenant_id, meter=Meter.TASKS, day=today - dt.timedelta(days=back)
            )

    with tenant_scope(owner.tenant_id):
        await any_database.run(work)
    with read_your_writes_scope():
        recent = await get_tenant_usage(any_database, tenant_id=owner.tenant_id, days=2)
        tasks = await get_tenant_usage(any_database, tenant_id=owner.tenant_id, days=30, meter=Meter.TASKS)
        calls = await get_tenant_usage(any_database, tenant_id=owner.tenant_id, meter=Meter.API_CALLS)
    assert [u.day for u in recent] == [today, today - dt.timedelta(days=1)]
    assert len(tasks) == 3
    assert calls == []
    for days in (0, 367):
        with pytest.raises(ValidationFailedError):
            await get_tenant_usage(any_database, tenant_id=owner.tenant_id, days=days)


async def test_store_usage_total_is_idempotent_and_never_lowers(any_database: Database) -> None:
    """Writing an absolute total twice changes nothing; a smaller total leaves the larger one."""
    owner = await create_member(any_database)
    today = dt.datetime.now(dt.UTC).date()

    async def store(quantity: int) -> None:
        async def work(session: AsyncSession) -> None:
            await store_usage_total(
                session, tenant_id=owner.tenant_id, meter=Meter.API_CALLS, day=today, quantity=quantity
            )

        with tenant_scope(owner.tenant_id):
            await any_database.run(work)

    for quantity in (10, 10, 25, 3):
        await store(quantity)
    with read_your_writes_scope():
        usage = await get_usage(any_database, principal=owner)
    assert [(u.meter, u.quantity) for u in usage] == [(Meter.API_CALLS, 25)]


async def test_meter_flush_copies_counters_idempotently(
    any_database: Database, memory_limiter: RateLimiter, settings: Settings
) -> None:
    """Flushing writes each counted shop's total for today; flushing again writes the same totals."""
    shop_a = await create_member(any_database)
    shop_b = await create_member(any_database)
    meter = ApiCallMeter(memory_limiter, settings)
    for _ in range(3):
        await meter.count(shop_a.tenant_id)
    await meter.count(shop_b.tenant_id)
    # One scope around the flushes and the reads: the reads follow the flushes' commits
    # to the primary instead of racing the replica's replay.
    with read_your_writes_scope():
        assert await meter.flush(any_database) == 2
        await meter.count(shop_a.tenant_id)
        assert await meter.flush(any_database) == 2
        assert await meter.flush(any_database) == 2
        usage_a = await get_usage(any_database, principal=shop_a)
        usage_b = await get_usage(any_database, principal=shop_b)
    assert [(u.meter, u.quantity) for u in usage_a] == [(Meter.API_CALLS, 4)]
    assert [(u.meter, u.quantity) for u in usage_b] == [(Meter.API_CALLS, 1)]


async def test_meter_forgets_past_days_after_flushing_them(
    any_database: Database, memory_limiter: RateLimiter, settings: Settings
) -> None:
    """Yesterday's counter is flushed once more after midnight, then no longer."""
    owner = await create_member(any_database)
    now = [dt.datetime.now(dt.UTC) - dt.timedelta(days=1)]
    meter = ApiCallMeter(memory_limiter, settings, clock=lambda: now[0])
    await meter.count(owner.tenant_id)
    now[0] += dt.timedelta(days=1)
    with read_your_writes_scope():  # the read follows the flush to the primary
        assert await meter.flush(any_database) == 1
        assert await meter.flush(any_database) == 0
        usage = await get_usage(any_database, principal=owner, days=2)
    assert [(u.day, u.quantity) for u in usage] == [(now[0].date() - dt.timedelta(days=1), 1)]


async def test_meter_limit_for_reads_the_override_and_caches_it(
    any_database: Database, memory_limiter: RateLimiter, settings: Settings
) -> None:
    """limit_for keeps the shop's limit; a committed override reaches it through the commit listener."""
    owner = await create_member(any_database)
    meter = ApiCallMeter(memory_limiter, settings)
    default = settings.tenancy.quotas.api_calls_per_day
    assert await meter.limit_for(any_database, owner.tenant_id) == default
    await set_quota_override(any_database, tenant_id=owner.tenant_id, meter=Meter.API_CALLS, limit=7)
    # Nobody told the meter: the cached limit stands.
    assert await meter.limit_for(any_database, owner.tenant_id) == default

    stop = any_database.on_committed(meter.forget_changed_limits)
    try:
        await set_quota_override(any_database, tenant_id=owner.tenant_id, meter=Meter.API_CALLS, limit=5)
        assert await meter.limit_for(any_database, owner.tenant_id) == 5
        await set_quota_override(any_database, tenant_id=owner.tenant_id, meter=Meter.API_CALLS, limit=None)
        assert await meter.limit_for(any_database, owner.tenant_id) == default
    finally:
        await stop()
