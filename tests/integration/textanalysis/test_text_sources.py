"""`folio text` over the real public-domain text sets (fetched into the repo's data folder when missing)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from click.testing import CliRunner

from folio.entrypoints.cli import build_cli

pytestmark = pytest.mark.integration

AUSTEN_TITLES = {
    "Sense & Sensibility",
    "Pride & Prejudice",
    "Mansfield Park",
    "Emma",
    "Northanger Abbey",
    "Persuasion",
}


def test_the_repl_mixes_real_text_sets() -> None:
    """--source mixes text sets; their works are named source:key, and a query finds Bierce's entry."""
    result = CliRunner().invoke(
        build_cli(),
        ["text", "repl", "--source", "devils-dictionary", "--source", "austen-novels", "--limit", "7"],
        input="cynic blackguard\n\n",
    )
    assert result.exit_code == 0, result.output
    assert "7 works loaded" in result.output
    hits = re.findall(r"(\d\.\d{4})  (.+)", result.output)
    assert hits[0][1] == "The Devil's Dictionary"
    assert {title for _, title in hits[1:]} <= AUSTEN_TITLES
    assert [float(score) for score, _ in hits] == sorted((float(score) for score, _ in hits), reverse=True)


# Speaker abbreviations that topped these plays' terms while speaker tags were counted.
SPEAKER_ABBREVIATIONS = {
    "all_is_well_that_ends_well_gut_f": {"laf", "par", "hel", "ber"},
    "hamlet_gut": {"ham", "hor", "pol", "laer", "oph"},
    "hamlet_gut_f": {"ham", "hor", "laer", "oph"},
    "lear_gut": {"glou", "edm", "reg", "alb"},
    "macbeth_gut_f": {"macb", "macd"},
}


def test_the_report_titles_real_works_and_weighs_words_not_speakers() -> None:
    """On the real Shakespeare set, works are titled, and no speaker abbreviation is among the top terms."""
    result = CliRunner().invoke(build_cli(), ["text", "report", "--top", "10"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    titles = {row["key"]: row["work"] for row in rows}
    assert len(titles) == 77
    assert titles["hamlet_gut"] == "Hamlet"
    assert titles["all_is_well_that_ends_well_gut_f"] == "All is well, that Ends well (Folio)"
    assert all(title != key for key, title in titles.items())
    for key, abbreviations in SPEAKER_ABBREVIATIONS.items():
        top = {row["term"] for row in rows if row["key"] == key}
        assert len(top) == 10
        assert not top & abbreviations, (key, top & abbreviations)
    hamlet = {row["word"] for row in rows if row["key"] == "hamlet_gut"}
    assert {"Hamlet", "Horatio", "Polonius"} <= hamlet
