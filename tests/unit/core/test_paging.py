"""Paging: the page models and their schema names, the page-size rule, keyset slices and conditions."""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from sqlalchemy import Integer, column, create_engine, select, table

from folio.core.errors import ValidationFailedError
from folio.core.paging import (
    CursorPage,
    Page,
    api_page_size,
    check_page_number,
    keyset_after,
    keyset_slice,
    page_offset,
    page_size,
)
from folio.core.settings import Settings

pytestmark = pytest.mark.unit


class Book(BaseModel):
    """An item to page."""

    title: str


class BookPage(Page[Book]):
    """A numbered page of books."""


class BookCursorPage(CursorPage[Book]):
    """A keyset page of books."""


def test_page_counts_its_pages() -> None:
    """``Page.of`` computes ``pages`` from the total, rounding up, and 0 when nothing matches."""
    page = BookPage.of([Book(title="Moomin")], total=41, page=3, per_page=20)
    assert page.model_dump() == {
        "items": [{"title": "Moomin"}],
        "total": 41,
        "page": 3,
        "per_page": 20,
        "pages": 3,
    }
    assert isinstance(page, BookPage)
    assert BookPage.of([], total=0, page=1, per_page=20).pages == 0


def test_a_named_page_keeps_its_schema_name_and_wire_fields() -> None:
    """A subclass that adds nothing is its own OpenAPI schema, with the shared field names."""
    numbered = BookPage.model_json_schema()
    keyset = BookCursorPage.model_json_schema()
    assert (numbered["title"], keyset["title"]) == ("BookPage", "BookCursorPage")
    assert list(numbered["properties"]) == ["items", "total", "page", "per_page", "pages"]
    assert list(keyset["properties"]) == ["data", "next_cursor", "has_more"]


@pytest.mark.parametrize(("requested", "expected"), [(None, 20), (1, 1), (100, 100)])
def test_page_size_defaults_and_accepts_within_bounds(requested: int | None, expected: int) -> None:
    """No size is the default; a size within 1..largest is kept."""
    assert page_size(requested, name="limit", default=20, largest=100) == expected


@pytest.mark.parametrize("requested", [0, 101, -5])
def test_page_size_out_of_bounds_names_the_parameter(requested: int) -> None:
    """A size outside 1..largest is a 422 naming the query parameter."""
    with pytest.raises(ValidationFailedError) as caught:
        page_size(requested, name="per_page", default=20, largest=100)
    assert caught.value.status == 422
    assert [error.name for error in caught.value.extra["errors"]] == ["query.per_page"]
    assert "between 1 and 100" in str(caught.value)


def test_api_page_size_follows_the_api_settings(settings: Settings) -> None:
    """The public API's default and maximum come from the ``api`` settings."""
    api = settings.model_copy(
        update={"api": settings.api.model_copy(update={"default_page_size": 7, "max_page_size": 9})}
    )
    assert api_page_size(api, None, name="limit") == 7
    assert api_page_size(api, 9, name="limit") == 9
    with pytest.raises(ValidationFailedError):
        api_page_size(api, 10, name="limit")


def test_page_numbers_start_at_one() -> None:
    """Page 0 is a 422 on ``query.page``; page n of size s starts after (n-1)*s rows."""
    with pytest.raises(ValidationFailedError) as caught:
        check_page_number(0)
    assert [error.name for error in caught.value.extra["errors"]] == ["query.page"]
    assert page_offset(1, 20) == 0
    assert page_offset(3, 20) == 40
    with pytest.raises(ValidationFailedError):
        page_offset(0, 20)


def test_keyset_slice_cuts_the_look_ahead_row() -> None:
    """With the extra row the page is cut and the cursor names its last row; without it, no cursor."""
    assert keyset_slice([1, 2, 3], 2, cursor_of=str) == ([1, 2], "2")
    assert keyset_slice([1, 2], 2, cursor_of=str) == ([1, 2], None)
    assert keyset_slice([], 2, cursor_of=str) == ([], None)


def _rows_after(*, descending: bool) -> list[int]:
    """The ids a keyset condition keeps on a small SQLite table, in its order."""
    rows = table("rows", column("at", Integer()), column("id", Integer()))
    at = 10
    values = [(at, 1), (at, 2), (at, 3), (at + 1, 0), (at - 1, 9)]
    engine = create_engine("sqlite://")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE rows (at INTEGER, id INTEGER)")
        connection.execute(rows.insert(), [{"at": when, "id": ident} for when, ident in values])
        order = (rows.c.at.desc(), rows.c.id.desc()) if descending else (rows.c.at.asc(), rows.c.id.asc())
        statement = (
            select(rows.c.id)
            .where(keyset_after(rows.c.at, rows.c.id, at, 2, descending=descending))
            .order_by(*order)
        )
        return list(connection.scalars(statement))


def test_keyset_after_keeps_the_rows_past_the_position_either_way() -> None:
    """Ties on the key break on the id; the position itself is never repeated."""
    assert _rows_after(descending=True) == [1, 9]
    assert _rows_after(descending=False) == [3, 0]
