"""Reader rows -> works, and the quarantine reason for each kind of bad row (generated rows)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from folio.catalog.importer import (
    REASONS,
    Candidate,
    Rejection,
    map_book_crossing_row,
    map_public_domain_text,
)
from folio.catalog.schemas import latest_year

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class GeneratedRow:
    """A generated stand-in for ``folio.datasets.api.RawRow``."""

    line_no: int
    raw: str
    fields: dict[str, str] | None = None
    error: str | None = None


@dataclass(frozen=True)
class GeneratedText:
    """A generated stand-in for ``folio.datasets.api.PublicDomainText``."""

    key: str
    title: str
    author: str | None
    year: int | None
    text: str


def bx(**overrides: str) -> GeneratedRow:
    """A generated Book-Crossing row (the real file's column names), with ``overrides``."""
    fields = {
        "ISBN": "0195153448",
        "Book-Title": "Classical Mythology",
        "Book-Author": "Mark P. O. Morford",
        "Year-Of-Publication": "2002",
        "Publisher": "Oxford University Press",
        "Image-URL-S": "http://images.amazon.com/images/P/0195153448.01.THUMBZZZ.jpg",
        "Image-URL-M": "http://images.amazon.com/images/P/0195153448.01.MZZZZZZZ.jpg",
        "Image-URL-L": "http://images.amazon.com/images/P/0195153448.01.LZZZZZZZ.jpg",
    }
    fields.update({key.replace("_", "-"): value for key, value in overrides.items()})
    return GeneratedRow(line_no=2, raw=";".join(f'"{v}"' for v in fields.values()), fields=fields)


def test_book_crossing_row_maps_to_a_work() -> None:
    """A good row becomes a work keyed by its ISBN-13, with the ISBN-10 kept and entities unescaped."""
    mapped = map_book_crossing_row(bx(**{"Book-Title": "Cats &amp; Dogs"}))
    assert isinstance(mapped, Candidate)
    assert mapped.source_key == "9780195153446"
    assert mapped.values["isbn10"] == "0195153448"
    assert mapped.values["title"] == "Cats & Dogs"
    assert mapped.values["authors"] == ["Mark P. O. Morford"]
    assert mapped.values["year"] == 2002
    assert mapped.values["cover_url"].endswith("LZZZZZZZ.jpg")


def test_year_zero_means_unknown() -> None:
    """Book-Crossing's year 0 is stored as no year, not quarantined."""
    mapped = map_book_crossing_row(bx(**{"Year-Of-Publication": "0"}))
    assert isinstance(mapped, Candidate)
    assert mapped.values["year"] is None


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (GeneratedRow(7, '"broken;"line', None, "expected 8 fields, got 2"), "parse-error"),
        (bx(ISBN="0195153449"), "invalid-isbn"),
        (bx(ISBN=""), "invalid-isbn"),
        (bx(**{"Book-Title": "   "}), "missing-title"),
        (bx(**{"Book-Title": "Caf\ufffd"}), "undecodable-text"),
        (bx(**{"Year-Of-Publication": "2050"}), "impossible-year"),
        (bx(**{"Year-Of-Publication": str(latest_year() + 1)}), "impossible-year"),
        (bx(**{"Year-Of-Publication": "1376"}), None),
        (bx(**{"Year-Of-Publication": "999"}), "impossible-year"),
        (bx(**{"Year-Of-Publication": "DK Publishing Inc"}), "impossible-year"),
    ],
)
def test_bad_rows_get_a_reason(row: GeneratedRow, reason: str | None) -> None:
    """Each kind of bad row is refused with its documented reason code (and good ones pass)."""
    mapped = map_book_crossing_row(row)
    if reason is None:
        assert isinstance(mapped, Candidate)
        return
    assert isinstance(mapped, Rejection)
    assert mapped.reason == reason
    assert mapped.reason in REASONS
    assert mapped.raw == row.raw


def test_public_domain_text_maps_to_a_work() -> None:
    """A text becomes a work without ISBN keyed by the text's key; bad ones are refused."""
    mapped = map_public_domain_text(1, GeneratedText("hamlet", "Hamlet", "William Shakespeare", 1603, "..."))
    assert isinstance(mapped, Candidate)
    assert (mapped.source_key, mapped.values["title"], mapped.values["isbn13"]) == ("hamlet", "Hamlet", None)
    blank = map_public_domain_text(2, GeneratedText("x", " ", None, None, "..."))
    assert isinstance(blank, Rejection)
    assert blank.reason == "missing-title"
    future = map_public_domain_text(3, GeneratedText("y", "Y", None, 3000, "..."))
    assert isinstance(future, Rejection)
    assert future.reason == "impossible-year"
