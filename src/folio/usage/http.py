"""The usage context's HTTP adapter: ``GET /usage`` and ``GET /quotas`` (mounted under ``/api/v1``).

The caller comes from ``folio.httpkit.CurrentPrincipal`` like every route's: the
platform's authenticator checks the credentials, so this context needs no import of
identity.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from folio.httpkit import CurrentPrincipal, DatabaseDep, SettingsDep, problem_responses
from folio.usage.schemas import Meter, QuotaRead, UsageRead
from folio.usage.service import MAX_USAGE_DAYS, get_quotas, get_usage

router = APIRouter(tags=["usage"])


@router.get(
    "/usage",
    summary="Read the shop's daily usage",
    response_model=list[UsageRead],
    responses=problem_responses(401, 403, 422, 429),
)
async def read_usage(
    *,
    principal: CurrentPrincipal,
    db: DatabaseDep,
    days: Annotated[
        int, Query(ge=1, le=MAX_USAGE_DAYS, description="How many UTC days back, today included.")
    ] = 30,
    meter: Annotated[Meter | None, Query(description="Only this meter.")] = None,
) -> list[UsageRead]:
    """Each meter's usage per UTC day, newest first (owners and admins only).

    `api_calls` is copied from the live counters periodically, so today's value may lag
    by up to the usage flush interval.
    """
    return await get_usage(db, principal=principal, days=days, meter=meter)


@router.get(
    "/quotas",
    summary="Read the shop's quotas",
    response_model=list[QuotaRead],
    responses=problem_responses(401, 403, 429),
)
async def read_quotas(principal: CurrentPrincipal, db: DatabaseDep, settings: SettingsDep) -> list[QuotaRead]:
    """Every meter's limit for the shop, and whether it is the shop's own (owners and admins only)."""
    return await get_quotas(db, settings=settings, principal=principal)
