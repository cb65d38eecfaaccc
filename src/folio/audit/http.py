"""The audit context's HTTP adapter: ``GET /audit-events`` (mounted under ``/api/v1``).

The caller comes from ``folio.httpkit.CurrentPrincipal`` like every route's: the
platform's authenticator checks the credentials, so this context needs no import of
identity.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from folio.audit.schemas import AuditCursor, AuditFilterText, AuditPage
from folio.audit.service import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, list_events
from folio.httpkit import CurrentPrincipal, DatabaseDep, SettingsDep, problem_responses

router = APIRouter(tags=["audit"])


@router.get(
    "/audit-events",
    summary="List the shop's audit trail",
    response_model=AuditPage,
    responses=problem_responses(401, 403, 422, 429),
)
async def list_audit_events(
    *,
    principal: CurrentPrincipal,
    db: DatabaseDep,
    action: Annotated[
        AuditFilterText | None, Query(description="Only events with this action.", examples=["task.updated"])
    ] = None,
    entity_type: Annotated[
        AuditFilterText | None, Query(description="Only events about this kind of thing.", examples=["task"])
    ] = None,
    entity_id: Annotated[
        AuditFilterText | None, Query(description="Only events about this one thing.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Events per page.")] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        AuditCursor | None, Query(description="The `next_cursor` of the previous page, to get the next one.")
    ] = None,
    settings: SettingsDep,
) -> AuditPage:
    """Every recorded state change in the caller's shop, newest first (owners and admins only).

    Each event names its actor, the action, the thing changed, its state before and after,
    and the correlation id of the request that made it. Page with `next_cursor`.
    """
    return await list_events(
        db,
        settings=settings,
        principal=principal,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        limit=limit,
        cursor=cursor,
    )
