"""Paging, once for every list: the page models, the page-size rule, numbered and keyset pages.

Two ways to page a list, each with one wire shape every context shares:

- numbered pages (``page``, ``per_page``): ``Page[T]``, ``{items, total, page, per_page,
  pages}``. Simple, but rows added meanwhile shift later pages.
- keyset pages (an opaque ``cursor`` and a ``limit``): ``CursorPage[T]``, ``{data,
  next_cursor, has_more}``. The cursor names the last row shown, signed
  (``folio.core.cursors``), so rows added or removed between requests never make a page
  skip or repeat one. ``keyset_after`` is the SQL condition "after that row", and
  ``keyset_slice`` cuts a look-ahead query's rows into the page and the next cursor.

A context names its own page by subclassing, adding nothing
(``class TaskPage(Page[TaskRead])``): the subclass's name is the OpenAPI schema's name.

One page-size rule: ``page_size`` (a size outside ``1..largest`` is a 422 naming the
query parameter), with the public API's default and maximum from the ``api`` settings
(``api_page_size``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, and_, literal, or_
from sqlalchemy.orm import QueryableAttribute

from folio.core.errors import InvalidParam, ValidationFailedError
from folio.core.settings import Settings

__all__ = [
    "CursorPage",
    "Page",
    "api_page_size",
    "check_page_number",
    "keyset_after",
    "keyset_slice",
    "page_offset",
    "page_size",
]

ItemT = TypeVar("ItemT")
RowT = TypeVar("RowT")
KeyT = TypeVar("KeyT")


class Page(BaseModel, Generic[ItemT]):
    """One numbered page of a list: its items and where it stands among all pages."""

    items: list[ItemT] = Field(description="The items on this page; empty past the last page.")
    total: int = Field(description="Items matching the filter, on all pages.", examples=[42])
    page: int = Field(description="This page's number, from 1.", examples=[1])
    per_page: int = Field(description="Page size asked for.", examples=[20])
    pages: int = Field(description="Number of pages (0 when nothing matches).", examples=[3])

    @classmethod
    def of(cls, items: list[ItemT], *, total: int, page: int, per_page: int) -> Self:
        """A page, with ``pages`` computed from ``total`` (``per_page`` is at least 1)."""
        return cls(items=items, total=total, page=page, per_page=per_page, pages=math.ceil(total / per_page))


class CursorPage(BaseModel, Generic[ItemT]):
    """One page of a list after a keyset cursor."""

    data: list[ItemT] = Field(description="The items on this page, in the list's order.")
    next_cursor: str | None = Field(
        description="Opaque; pass it as `cursor` to get the next page. Null on the last page.",
        examples=["eyJzIjoiLWNyZWF0ZWRfYXQiLCJrIjoiMjAyNi0xMS0yMlQxMDowMDowMCswMDowMCIsImkiOiIuLi4ifQ"],
    )
    has_more: bool = Field(description="Whether another page follows.", examples=[True])


def page_size(requested: int | None, *, name: str, default: int, largest: int) -> int:
    """The page size to use: ``requested``, or ``default`` when None.

    Raises ``ValidationFailedError`` (422, naming ``query.<name>``) when the size is
    outside ``1..largest``.
    """
    size = default if requested is None else requested
    if not 1 <= size <= largest:
        raise ValidationFailedError(
            f"{name} must be between 1 and {largest}",
            errors=[InvalidParam(name=f"query.{name}", reason=f"must be between 1 and {largest}")],
        )
    return size


def api_page_size(settings: Settings, requested: int | None, *, name: str) -> int:
    """``page_size`` with the public API's bounds: ``api.default_page_size`` and ``api.max_page_size``."""
    return page_size(
        requested, name=name, default=settings.api.default_page_size, largest=settings.api.max_page_size
    )


def check_page_number(page: int) -> None:
    """Raise ``ValidationFailedError`` (422, ``query.page``) unless ``page`` is at least 1."""
    if page < 1:
        raise ValidationFailedError(
            "page numbers start at 1", errors=[InvalidParam(name="query.page", reason="must be at least 1")]
        )


def page_offset(page: int, size: int) -> int:
    """The rows before numbered page ``page`` of ``size`` rows; ``check_page_number`` first."""
    check_page_number(page)
    return (page - 1) * size


def keyset_slice(
    rows: Sequence[RowT], size: int, *, cursor_of: Callable[[RowT], str]
) -> tuple[list[RowT], str | None]:
    """The page and the next cursor, from rows fetched with one row of look-ahead.

    Precondition: ``rows`` came from a query limited to ``size + 1`` rows. When the
    extra row is there another page follows, and its cursor is ``cursor_of`` the last
    row shown; otherwise the next cursor is None (this is the last page).
    """
    shown = list(rows[:size])
    if len(rows) <= size or not shown:
        return shown, None
    return shown, cursor_of(shown[-1])


def keyset_after(
    key: ColumnElement[KeyT] | QueryableAttribute[KeyT],
    row_id: ColumnElement[Any] | QueryableAttribute[Any],
    last_key: KeyT,
    last_id: object,
    *,
    descending: bool,
) -> ColumnElement[bool]:
    """The rows strictly after ``(last_key, last_id)`` in the order by ``key``, then ``row_id``.

    Precondition: the query orders by ``key`` and then ``row_id``, both descending or
    both ascending as ``descending`` says, so the id breaks ties and the order is total.
    """
    # Spelled out rather than a row-value comparison, which not every SQLite build has.
    at = literal(last_key, key.type)
    last = literal(last_id, row_id.type)
    if descending:
        return or_(key < at, and_(key == at, row_id < last))
    return or_(key > at, and_(key == at, row_id > last))
