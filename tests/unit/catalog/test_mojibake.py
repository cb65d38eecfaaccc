"""Mojibake in real Book-Crossing rows: repaired where it can be restored, quarantined where it cannot.

``data/bx_books_real_excerpt.csv`` holds real lines copied from the fetched
``BX-Books.csv`` (Latin-1, as the data set ships): its header, lines 2, 195, 333, 390,
115113, 129876, 129878 and 35165.
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
    restore_lost_c1_bytes,
)
from folio.datasets.api import BOOK_FIELDS
from folio.datasets.bookcrossing import read_rows

pytestmark = pytest.mark.unit

REAL_EXCERPT = Path(__file__).parent / "data" / "bx_books_real_excerpt.csv"


@pytest.fixture(scope="module")
def mapped() -> dict[str, Candidate | Rejection]:
    """The real excerpt through the real reader and the importer's mapping, by ISBN-10 of the line."""
    rows = list(read_rows(REAL_EXCERPT, BOOK_FIELDS))
    assert len(rows) == 8
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
        "3257206321",
        "3150094445",
    }


def test_a_doubly_encoded_letter_whose_byte_was_lost_is_restored(
    mapped: dict[str, Candidate | Rejection],
) -> None:
    """``KÃ?Â¶nig Lear`` (0x83 lost to ``?`` upstream) comes out as ``König Lear``, counted repaired."""
    for isbn in ("3257206321", "3150094445"):
        item = mapped[isbn]
        assert isinstance(item, Candidate), item
        assert (item.values["title"].startswith("König Lear"), item.repaired) == (True, True)


def test_mojibake_that_lost_an_ambiguous_byte_is_quarantined(
    mapped: dict[str, Candidate | Rejection],
) -> None:
    """``Ã?xito`` (its lost byte could be É, Í, Ó...) is quarantined ``unrepairable-text``."""
    item = mapped["187842419X"]
    assert isinstance(item, Rejection)
    assert (item.reason, item.detail.startswith("title: ")) == ("unrepairable-text", True)
    assert "Ã?xito" in item.raw
    assert "unrepairable-text" in REASONS


def test_a_lost_byte_is_restored_only_where_it_gives_a_letter() -> None:
    """``Ã?Â·`` would decode to ``÷``, not a letter, so it is left for quarantine rather than guessed."""
    assert restore_lost_c1_bytes("Erz\u00c3?\u00c2\u00a4hlungen") == "Erzählungen"
    assert restore_lost_c1_bytes("a\u00c3?\u00c2\u00b7b") == "a\u00c3?\u00c2\u00b7b"


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
        repair_text("Das sÃ?Â¼Ã?Â?e VermÃ?Â¤chtnis.")
