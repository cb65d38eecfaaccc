"""The analysis chain: case, diacritics, apostrophes, stopwords, stemming, positions."""

from __future__ import annotations

import pytest
from sklearn.feature_extraction.text import (  # type: ignore[import-untyped]  # no type hints
    ENGLISH_STOP_WORDS as SKLEARN_STOP_WORDS,
)

from folio.textanalysis.analysis import ENGLISH_STOP_WORDS, analyze, analyze_tokens

pytestmark = pytest.mark.unit


def test_case_and_diacritics_fold_to_ascii() -> None:
    """Upper case and accents fold away: Café and CAFÉ both give cafe."""
    assert analyze("Café CAFÉ cafe\u0301", stemming=False) == ["cafe", "cafe", "cafe"]


def test_nfkc_and_casefold() -> None:
    """Ligatures and full-width letters normalise; ß casefolds to ss."""
    assert analyze("\ufb01ne \uff26\uff49\uff4e\uff45 Straße", stemming=False) == ["fine", "fine", "strasse"]


def test_stopwords_removed_or_kept() -> None:
    """English stopwords go by default and stay when asked."""
    assert analyze("The king and the queen", stemming=False) == ["king", "queen"]
    assert analyze("the king", stemming=False, remove_stopwords=False) == ["the", "king"]


def test_stemming() -> None:
    """Snowball stems running to run, optional."""
    assert analyze("running runs") == ["run", "run"]
    assert analyze("running", stemming=False) == ["running"]


def test_apostrophes() -> None:
    """A possessive 's is dropped; other apostrophes join the word."""
    assert analyze("the king's o\u2019er don't", stemming=False) == ["king", "oer", "dont"]


def test_positions_count_stopwords_and_offsets_point_into_text() -> None:
    """Positions keep stopword gaps; offsets slice the original word."""
    text = "To be the Café"
    tokens = analyze_tokens(text, stemming=False)
    assert [(t.term, t.position) for t in tokens] == [("cafe", 3)]
    assert text[tokens[0].start : tokens[0].end] == "Café"


def test_stopwords_match_scikit_learn() -> None:
    """The vendored stopword list is scikit-learn's ENGLISH_STOP_WORDS."""
    assert frozenset(SKLEARN_STOP_WORDS) == ENGLISH_STOP_WORDS
