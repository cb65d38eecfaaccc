"""Input rules of the catalog DTOs: years, currencies, conditions, names, PATCH nulls."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from pydantic import ValidationError

from folio.catalog.schemas import (
    ListingCreate,
    ListingUpdate,
    WorkCreate,
    WorkRead,
    WorkUpdate,
    check_year,
    latest_year,
)

pytestmark = pytest.mark.unit


def test_year_bounds() -> None:
    """Years run from 1000 to next year; anything else is refused."""
    today = dt.date(2026, 11, 22)
    assert latest_year(today) == 2027
    assert check_year(1000, today=today) == 1000
    assert check_year(2027, today=today) == 2027
    for year in (0, 999, 2028, -5):
        with pytest.raises(ValueError, match="between 1000 and 2027"):
            check_year(year, today=today)


def test_work_create_normalises_isbn_and_names() -> None:
    """The ISBN is stored as ISBN-13; author and subject names are trimmed and de-duplicated."""
    work = WorkCreate(
        isbn="0-306-40615-2", title="  Data   Reduction ", authors=[" Bevington ", "Bevington", ""]
    )
    assert work.isbn == "9780306406157"
    assert work.title == "Data Reduction"
    assert work.authors == ["Bevington"]


@pytest.mark.parametrize(
    "body",
    [
        {"title": "x", "isbn": "0306406153"},
        {"title": "x", "year": 999},
        {"title": "x", "year": latest_year() + 1},
        {"title": "   "},
        {"title": "x", "cover_url": "javascript:alert(1)"},
        {"title": "x", "unknown": 1},
    ],
)
def test_work_create_refuses_bad_input(body: dict[str, object]) -> None:
    """Bad ISBNs, impossible years, blank titles, non-HTTP cover URLs and unknown fields are refused."""
    with pytest.raises(ValidationError):
        WorkCreate.model_validate(body)


def test_work_update_allows_clearing_optional_fields_only() -> None:
    """``year`` may be nulled, ``title`` may not; ``changes`` holds only what was sent."""
    assert WorkUpdate.model_validate({"year": None}).changes() == {"year": None}
    with pytest.raises(ValidationError, match="not set to null"):
        WorkUpdate.model_validate({"title": None})


def test_listing_rules() -> None:
    """Prices are positive, stock is not negative, currencies are 3 letters upper-cased, conditions known."""
    work_id = uuid.uuid4()
    listing = ListingCreate(work_id=work_id, price_cents=1250, currency="eur", stock=0, condition="like_new")
    assert listing.currency == "EUR"
    for bad in (
        {"price_cents": 0},
        {"price_cents": -1},
        {"stock": -1},
        {"currency": "EURO"},
        {"currency": "E1R"},
        {"condition": "mint"},
    ):
        with pytest.raises(ValidationError):
            ListingCreate.model_validate(
                {"work_id": str(work_id), "price_cents": 100, "currency": "EUR", **bad}
            )
    assert ListingUpdate.model_validate({"condition": "good", "version": 2}).changes() == {
        "condition": "good"
    }
    with pytest.raises(ValidationError, match="not set to null"):
        ListingUpdate.model_validate({"stock": None})


def test_work_read_shows_has_preview_not_the_key() -> None:
    """The read shape says whether a preview exists without exposing where it is stored."""
    now = dt.datetime.now(dt.UTC)
    base = {
        "id": uuid.uuid4(),
        "isbn13": None,
        "isbn10": None,
        "title": "Emma",
        "authors": ["Jane Austen"],
        "publisher": None,
        "year": None,
        "subjects": [],
        "language": "en",
        "cover_url": None,
        "description": None,
        "source": "austen-novels",
        "source_key": "emma",
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    shown = WorkRead.model_validate({**base, "preview_key": "previews/x.pdf"}).model_dump(mode="json")
    assert shown["has_preview"] is True
    assert "preview_key" not in shown
    assert WorkRead.model_validate(base).model_dump()["has_preview"] is False
