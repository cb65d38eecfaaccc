"""ISBN-10 and ISBN-13: validation (check digits), normalisation to ISBN-13, and back to ISBN-10.

Input may carry hyphens and spaces (``978-0-306-40615-7``, ``0 19 515344 8``) and a
lower-case ``x`` check digit; they are stripped and upper-cased before the checks.
"""

from __future__ import annotations

from dataclasses import dataclass

ISBN10_LENGTH = 10
ISBN13_LENGTH = 13
ISBN10_REMAINDER_X = 10

__all__ = ["InvalidIsbnError", "Isbn", "isbn10_to_isbn13", "isbn13_to_isbn10", "parse_isbn"]


class InvalidIsbnError(ValueError):
    """The text is not a valid ISBN-10 or ISBN-13 (wrong length, characters or check digit)."""


@dataclass(frozen=True)
class Isbn:
    """A valid ISBN: always its ISBN-13 form, and its ISBN-10 form where one exists (978 prefix)."""

    isbn13: str
    isbn10: str | None


def _isbn10_check(first9: str) -> str:
    total = sum((10 - position) * int(digit) for position, digit in enumerate(first9))
    check = (11 - total % 11) % 11
    return "X" if check == ISBN10_REMAINDER_X else str(check)


def _isbn13_check(first12: str) -> str:
    total = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(first12))
    return str((10 - total % 10) % 10)


def isbn10_to_isbn13(isbn10: str) -> str:
    """The ISBN-13 of a valid ISBN-10 (``978`` prefix, new check digit)."""
    first12 = "978" + isbn10[:9]
    return first12 + _isbn13_check(first12)


def isbn13_to_isbn10(isbn13: str) -> str | None:
    """The ISBN-10 of a valid ISBN-13, or None: only ``978`` numbers have one."""
    if not isbn13.startswith("978"):
        return None
    first9 = isbn13[3:12]
    return first9 + _isbn10_check(first9)


def parse_isbn(text: str) -> Isbn:
    """Validate ``text`` as an ISBN-10 or ISBN-13 and return its normalised forms.

    Raises:
        InvalidIsbnError: saying what is wrong (length, a character, the check digit).
    """
    compact = "".join(text.split()).replace("-", "").upper()
    if not compact.isascii():
        raise InvalidIsbnError(f"{text!r}: an ISBN is made of the digits 0-9 (and X)")
    if len(compact) == ISBN10_LENGTH:
        if not compact[:9].isdigit() or not (compact[9].isdigit() or compact[9] == "X"):
            raise InvalidIsbnError(f"{text!r}: an ISBN-10 is nine digits and a digit or X")
        if _isbn10_check(compact[:9]) != compact[9]:
            raise InvalidIsbnError(
                f"{text!r}: the ISBN-10 check digit should be {_isbn10_check(compact[:9])}"
            )
        return Isbn(isbn13=isbn10_to_isbn13(compact), isbn10=compact)
    if len(compact) == ISBN13_LENGTH:
        if not compact.isdigit():
            raise InvalidIsbnError(f"{text!r}: an ISBN-13 is thirteen digits")
        if not compact.startswith(("978", "979")):
            raise InvalidIsbnError(f"{text!r}: an ISBN-13 starts with 978 or 979")
        if _isbn13_check(compact[:12]) != compact[12]:
            raise InvalidIsbnError(
                f"{text!r}: the ISBN-13 check digit should be {_isbn13_check(compact[:12])}"
            )
        return Isbn(isbn13=compact, isbn10=isbn13_to_isbn10(compact))
    raise InvalidIsbnError(f"{text!r}: an ISBN has 10 or 13 characters (hyphens and spaces aside)")
