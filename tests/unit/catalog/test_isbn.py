"""ISBN-10/13 validation and normalisation, on real ISBNs and on broken ones."""

from __future__ import annotations

import pytest

from folio.catalog.isbn import InvalidIsbnError, isbn10_to_isbn13, isbn13_to_isbn10, parse_isbn

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "isbn13", "isbn10"),
    [
        # Real ISBN-10s from the Book-Crossing BX-Books file.
        ("0195153448", "9780195153446", "0195153448"),
        ("0002005018", "9780002005012", "0002005018"),
        ("0060973129", "9780060973124", "0060973129"),
        # The check digit X, upper and lower case.
        ("080442957X", "9780804429573", "080442957X"),
        ("080442957x", "9780804429573", "080442957X"),
        # The textbook ISBN-13, with hyphens and spaces.
        ("978-0-306-40615-7", "9780306406157", "0306406152"),
        ("978 0 306 40615 7", "9780306406157", "0306406152"),
        ("0-306-40615-2", "9780306406157", "0306406152"),
        # A 979 number has no ISBN-10.
        ("979-10-90636-07-1", "9791090636071", None),
    ],
)
def test_valid_isbns_normalise(text: str, isbn13: str, isbn10: str | None) -> None:
    """Valid ISBNs come back as ISBN-13, with their ISBN-10 where one exists."""
    parsed = parse_isbn(text)
    assert (parsed.isbn13, parsed.isbn10) == (isbn13, isbn10)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0195153449", "check digit should be 8"),
        ("978-0-306-40615-8", "check digit should be 7"),
        ("019515344", "10 or 13 characters"),
        ("", "10 or 13 characters"),
        ("01951534X8", "nine digits and a digit or X"),
        ("X195153448", "nine digits and a digit or X"),
        ("977-0-306-40615-7", "starts with 978 or 979"),
        ("978030640615X", "thirteen digits"),
        ("٠١٩٥١٥٣٤٤٨", "digits 0-9"),
    ],
)
def test_invalid_isbns_are_refused_with_a_reason(text: str, message: str) -> None:
    """Wrong check digits, lengths and characters raise ``InvalidIsbnError`` saying what is wrong."""
    with pytest.raises(InvalidIsbnError, match=message):
        parse_isbn(text)


def test_conversions_round_trip() -> None:
    """ISBN-10 -> 13 -> 10 gives the same number; only 978 numbers convert back."""
    assert isbn13_to_isbn10(isbn10_to_isbn13("0195153448")) == "0195153448"
    assert isbn13_to_isbn10("9791090636071") is None
