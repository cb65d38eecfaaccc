"""Folio-side highlighting: words marked by their analysed form, everything HTML-escaped."""

from __future__ import annotations

import pytest

from folio.search.dsl import compile_query, parse_query
from folio.search.highlight import highlight, matched_spans

pytestmark = pytest.mark.unit


def test_inflected_words_are_marked_for_their_stem() -> None:
    """The term run marks Running and runs: the same analysis chain as the index."""
    assert highlight("Running Man runs", frozenset({"run"})) == "<mark>Running</mark> Man <mark>runs</mark>"


def test_diacritics_case_and_possessives_fold_like_the_index() -> None:
    """Café matches cafe, KING'S matches king."""
    assert highlight("Café of the KING'S men", frozenset({"cafe", "king"})) == (
        "<mark>Café</mark> of the <mark>KING&#x27;S</mark> men"
    )


def test_text_is_html_escaped_inside_and_outside_marks() -> None:
    """Markup in a title is escaped, so the result is safe to insert into a page."""
    assert highlight('<b>Tom & "Jerry"</b>', frozenset({"tom"})) == (
        "&lt;b&gt;<mark>Tom</mark> &amp; &quot;Jerry&quot;&lt;/b&gt;"
    )


def test_stopwords_and_unrelated_words_are_never_marked() -> None:
    """A stopword is not an index term, so it is not marked even if asked for."""
    assert highlight("The Tempest", frozenset({"the"})) == "The Tempest"
    assert highlight("a < b", frozenset()) == "a &lt; b"


def test_a_word_giving_several_terms_is_marked_once() -> None:
    """½ analyses to two terms; the word is still one mark."""
    assert matched_spans("half ½ cup", frozenset({"1", "2"})) == [(5, 6)]
    assert highlight("half ½ cup", frozenset({"1", "2"})) == "half <mark>½</mark> cup"


def test_compiled_highlight_terms_drive_highlighting() -> None:
    """The terms the compiler collects highlight the display title of a hit."""
    terms = compile_query(parse_query('title:"running man" -king')).highlight_terms
    assert highlight("The Running Man (Stephen King)", terms) == (
        "The <mark>Running</mark> <mark>Man</mark> (Stephen King)"
    )
