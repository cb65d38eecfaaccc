"""The Book-Crossing readers on generated files with the real files' quirks."""

from __future__ import annotations

from pathlib import Path

import pytest

from folio.datasets.api import (
    BOOK_FIELDS,
    DatasetFormatError,
    DatasetNotFetchedError,
    RawRow,
    read_book_crossing_books,
    read_book_crossing_ratings,
    read_book_crossing_users,
)
from folio.datasets.bookcrossing import DATA_FOLDER

pytestmark = pytest.mark.unit

BOOKS_HEADER = (
    b'"ISBN";"Book-Title";"Book-Author";"Year-Of-Publication";"Publisher";'
    b'"Image-URL-S";"Image-URL-M";"Image-URL-L"'
)


def _book(isbn: bytes, title: bytes, author: bytes = b"A. Writer", year: bytes = b"2001") -> bytes:
    urls = b'"http://x/s.jpg";"http://x/m.jpg";"http://x/l.jpg"'
    return b'"' + isbn + b'";"' + title + b'";"' + author + b'";"' + year + b'";"Generated Press";' + urls


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A fetched-looking book-crossing folder with generated CSV files (CRLF, latin-1)."""
    data = tmp_path / DATA_FOLDER
    data.mkdir(parents=True)
    books = [
        BOOKS_HEADER,
        _book(b"0195153448", b"Classical Mythology"),
        _book(b"0140292918", b'Of Mice and Men (Steinbeck \\"Essentials\\")'),
        _book(b"000000000X", b"Back\\\\slash & Caf\xe9 &amp; Co"),
        _book(b"123", b"Year zero", year=b"0"),
        b'"0789466953";"Missing the author field";"2000";"DK";"s";"m";"l"',
        b'"1";"unterminated;"x";"2000";"p";"s";"m";"l',
        b'"2";"stray"after the quote";"a";"2000";"p";"s";"m";"l"',
        b"",
        _book(b"3", b"After a blank line"),
        b"",
        b"",
    ]
    (data / "BX-Books.csv").write_bytes(b"\r\n".join(books))
    ratings = [b'"User-ID";"ISBN";"Book-Rating"', b'"276725";"034545104X";"0"', b'"276726";"0155061224"']
    (data / "BX-Book-Ratings.csv").write_bytes(b"\r\n".join(ratings) + b"\r\n")
    users = [
        b'"User-ID";"Location";"Age"',
        b'"1";"nyc, new york, usa";NULL',
        b'"2";"cernusco s',
        b', milan";"18"',
    ]
    (data / "BX-Users.csv").write_bytes(b"\r\n".join(users) + b"\r\n")
    return tmp_path


def test_books_parse_faithfully(folder: Path) -> None:
    """Backslash escapes, latin-1 bytes and odd values come through unvalidated, by column name."""
    rows = list(read_book_crossing_books(folder))
    good = [row for row in rows if row.ok]
    assert [row.line_no for row in good] == [2, 3, 4, 5, 10]
    assert good[0].fields is not None
    assert tuple(good[0].fields) == BOOK_FIELDS
    titles = [row.fields["Book-Title"] for row in good if row.fields]
    assert titles[1] == 'Of Mice and Men (Steinbeck "Essentials")'
    assert titles[2] == "Back\\slash & Café &amp; Co"
    assert good[3].fields is not None
    assert good[3].fields["Year-Of-Publication"] == "0"
    assert good[0].raw == _book(b"0195153448", b"Classical Mythology").decode("latin-1")


def test_malformed_book_lines_become_errors_with_their_raw_text(folder: Path) -> None:
    """Wrong field counts, unterminated quotes, stray text and inner blank lines are reported."""
    bad = {row.line_no: row for row in read_book_crossing_books(folder) if not row.ok}
    assert sorted(bad) == [6, 7, 8, 9]
    assert bad[6].error == "expected 8 fields, found 7"
    assert bad[6].raw.startswith('"0789466953";"Missing the author field"')
    assert bad[7].error is not None
    assert bad[7].error.startswith("malformed quoting")
    assert bad[8].error is not None
    assert bad[8].error.startswith("malformed quoting")
    assert bad[9] == RawRow(line_no=9, raw="", error="blank line")
    assert all(row.fields is None for row in bad.values())


def test_ratings_and_users(folder: Path) -> None:
    """Ratings and users read the same way; a field split over two lines is two bad lines."""
    ratings = list(read_book_crossing_ratings(folder))
    assert ratings[0].fields == {"User-ID": "276725", "ISBN": "034545104X", "Book-Rating": "0"}
    assert ratings[1].error == "expected 3 fields, found 2"
    users = list(read_book_crossing_users(folder))
    assert users[0].fields == {"User-ID": "1", "Location": "nyc, new york, usa", "Age": "NULL"}
    assert [row.ok for row in users] == [True, False, False]
    assert users[1].raw == '"2";"cernusco s'


def test_undecodable_line_under_a_strict_encoding(folder: Path) -> None:
    """With an encoding that can fail, a bad line is an error showing its bytes, not a crash."""
    rows = list(read_book_crossing_books(folder, encoding="utf-8"))
    bad = next(row for row in rows if row.line_no == 4)
    assert bad.error is not None
    assert bad.error.startswith("not utf-8")
    assert "\\xe9" in bad.raw


def test_wrong_header_and_missing_file(folder: Path, tmp_path: Path) -> None:
    """A file with another header is a format error; a missing one names the fetch command."""
    (folder / DATA_FOLDER / "BX-Books.csv").write_bytes(b'"ISBN";"Title"\r\n"1";"x"\r\n')
    with pytest.raises(DatasetFormatError, match="header"):
        list(read_book_crossing_books(folder))
    with pytest.raises(DatasetNotFetchedError, match="folio data fetch book-crossing"):
        read_book_crossing_books(tmp_path / "nowhere")
