"""Mojibake in real Book-Crossing rows: repaired when ftfy can restore it, quarantined when bytes were lost.

``data/bx_books_real_excerpt.csv`` holds real lines copied from the fetched
``BX-Books.csv`` (Latin-1, as the data set ships): its header, lines 2, 195, 333, 390,
115113, 129876 and 129878.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from folio.catalog.importer import (
    REASONS,
    Candidate,
    Rejection,
    UnrepairableTextError,
    map_book_crossing_row,
    repair_text,
)
from folio.datasets.api import BOOK_FIELDS
from folio.datasets.bookcrossing import read_rows

pytestmark = pytest.mark.unit

REAL_EXCERPT = Path(__file__).parent / "data" / "bx_books_real_excerpt.csv"


@pytest.fixture(scope="module")
def mapped() -> dict[str, Candidate | Rejection]:
    """The real excerpt through the real reader and the importer's mapping, by ISBN-10 of the line."""
    rows = list(read_rows(REAL_EXCERPT, BOOK_FIELDS))
    assert len(rows) == 7
    return {str(row.fields["ISBN"]) if row.fields else row.raw: map_book_crossing_row(row) for row in rows}


def _title(item: Candidate | Rejection) -> str:
    assert isinstance(item, Candidate), item
    return str(item.values["title"])


def test_utf8_read_as_latin1_is_repaired_and_counted(mapped: dict[str, Candidate | Rejection]) -> None:
    """``StÃ¼ck``, ``CollecciÃ³ ClÃ ssica`` and ``ExupÃ©ry`` come out as the words they were, repaired."""
    assert _title(mapped["3462021095"]) == "Schwarzer Tee mit drei Stück Zucker"
    assert _title(mapped["8483007010"]) == "El gust amarg de la cervesa (Collecció Clàssica)"
    catalan = mapped["8483007010"]
    assert isinstance(catalan, Candidate)
    assert catalan.values["authors"] == ["Isabel-Clara Simó"]
    prince = mapped["0156528207"]
    assert isinstance(prince, Candidate)
    assert prince.values["authors"] == ["Antoine de Saint-Exupéry"]
    assert {isbn for isbn, item in mapped.items() if isinstance(item, Candidate) and item.repaired} == {
        "3462021095",
        "8483007010",
        "0156528207",
    }


def test_mojibake_that_lost_bytes_is_quarantined(mapped: dict[str, Candidate | Rejection]) -> None:
    """``KÃ?Â¶nig Lear`` (a byte became ``?`` before Folio read it) is quarantined ``unrepairable-text``."""
    for isbn in ("3257206321", "3150094445"):
        item = mapped[isbn]
        assert isinstance(item, Rejection)
        assert (item.reason, item.detail.startswith("title: ")) == ("unrepairable-text", True)
        assert "KÃ?Â¶nig Lear" in item.raw
    assert "unrepairable-text" in REASONS


def test_clean_rows_pass_unchanged(mapped: dict[str, Candidate | Rejection]) -> None:
    """Rows with nothing to repair keep their text and are not counted as repaired."""
    for isbn, title in (("0195153448", "Classical Mythology"), ("3150000130", "Koenig Lear")):
        item = mapped[isbn]
        assert isinstance(item, Candidate)
        assert (item.values["title"], item.repaired) == (title, False)


def test_repair_text_leaves_correct_text_alone() -> None:
    """Accents, curly quotes and entities already decoded are not "repaired" into something else."""
    for text in ("König Lear", "\u201cQuoted\u201d \u2013 dash", "Ærø & Øresund", "naïve café"):
        assert repair_text(text) == (text, False)
    with pytest.raises(UnrepairableTextError):
        repair_text("KÃ?Â¶nig")
