"""Stripe's list paging: newest first, ``limit``, then ``starting_after`` or ``ending_before`` an object id.

A page after an id holds the objects created before it (older ones); a page before
an id holds the ``limit`` objects created just after it (newer ones), still newest
first, and ``has_more`` then says whether even newer ones exist: the library's
``auto_paging_iter`` walks backwards that way. Ties on the creation time are broken
by id, so the order is total and a page never repeats or skips an object.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.paging import keyset_after
from folio.core.tenancy import tenant_filter
from folio.payments.calls import Call, RowT, find
from folio.payments.errors import InvalidRequestError, no_such
from folio.payments.objects import Renderer
from folio.payments.schemas import ListParams

__all__ = ["list_page"]


async def list_page(
    session: AsyncSession,
    call: Call,
    model: type[RowT],
    params: ListParams,
    *,
    url: str,
    name: str,
    filters: Sequence[ColumnElement[bool]] = (),
) -> dict[str, Any]:
    """One page of the shop's ``model`` objects matching ``filters``, as Stripe's list object.

    ``name`` is the object's name in the 404 for an unknown ``starting_after`` or
    ``ending_before``; giving both is refused, as Stripe refuses it.
    """
    if params.starting_after is not None and params.ending_before is not None:
        raise InvalidRequestError(
            "You may only specify one of these parameters: ending_before, starting_after.",
            code="parameter_invalid",
            param="ending_before",
        )
    query = select(model).where(tenant_filter(model), *filters)
    backwards = params.ending_before is not None
    cursor_id = params.ending_before if backwards else params.starting_after
    order = (
        (model.created_at.asc(), model.id.asc()) if backwards else (model.created_at.desc(), model.id.desc())
    )
    if cursor_id is not None:
        cursor = await find(session, model, cursor_id)
        if cursor is None:
            raise no_such(name, cursor_id, param="ending_before" if backwards else "starting_after")
        query = query.where(
            keyset_after(model.created_at, model.id, cursor.created_at, cursor.id, descending=not backwards)
        )
    rows = list((await session.scalars(query.order_by(*order).limit(params.limit + 1))).all())
    shown = rows[: params.limit]
    if backwards:
        # Fetched nearest the cursor first (oldest first): shown newest first like every page.
        shown.reverse()
    return await Renderer(session, call).render_list(
        url, shown, params.expand, has_more=len(rows) > params.limit
    )
