from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from folio.pdfindex.index import (
    INDEX_FILE,
    IndexFormatError,
    IndexNotFoundError,
    InvertedIndex,
    simple_analyzer,
)
from folio.pdfindex.query import QuerySyntaxError


@pytest.fixture
def index() -> InvertedIndex:
    """A hand-checkable corpus, analysed without stemming or stopwords."""
    idx = InvertedIndex(analyzer=simple_analyzer)
    idx.add("d1", {"title": "", "body": "ghost ghost king"})
    idx.add("d2", {"title": "", "body": "king queen"})
    idx.add("d3", {"title": "", "body": "queen ophelia river water"})
    return idx


def ids(index: InvertedIndex, query: str) -> list[str]:
    """The doc ids a query returns, best first."""
    return [hit.doc_id for hit in index.search(query)]


def test_bm25_score_matches_hand_computation(index: InvertedIndex) -> None:
    """BM25 for "ghost" in d1 equals the formula worked by hand.

    N=3, df=1: idf = ln(1 + 2.5/1.5) = ln(8/3). avg body length 9/3 = 3 = len(d1), so the
    length norm is 1 and tf~ = 2; score = idf * 2 / (1.2 + 2).
    """
    [hit] = index.search("ghost")
    assert hit.doc_id == "d1"
    assert hit.score == pytest.approx(math.log(8 / 3) * 2 / 3.2)


def test_shorter_document_ranks_first_for_equal_tf(index: InvertedIndex) -> None:
    """Length normalisation: "king" once in 2 words beats once in 3 words."""
    assert ids(index, "king") == ["d2", "d1"]


def test_phrase_needs_adjacent_words_in_order(index: InvertedIndex) -> None:
    """A phrase matches only consecutive positions; the same words unquoted match anywhere."""
    assert ids(index, '"king queen"') == ["d2"]
    assert ids(index, '"queen king"') == []
    assert ids(index, "queen king") == ["d2"]
    assert ids(index, '"ghost king"') == ["d1"]


def test_boolean_operators_and_parentheses(index: InvertedIndex) -> None:
    """AND, OR, NOT and parentheses select the documents boolean logic says."""
    assert sorted(ids(index, "ghost OR ophelia")) == ["d1", "d3"]
    assert ids(index, "king AND queen") == ["d2"]
    assert ids(index, "queen NOT king") == ["d3"]
    assert sorted(ids(index, "NOT ghost")) == ["d2", "d3"]
    assert sorted(ids(index, "(ghost OR river) AND NOT queen")) == ["d1"]
    assert ids(index, "king OR queen AND ophelia")[0] in {"d1", "d2", "d3"}
    assert sorted(ids(index, "king OR (queen AND ophelia)")) == ["d1", "d2", "d3"]


def test_title_match_outranks_body_match() -> None:
    """With title weight 3 a word in the title beats the same word in a body of equal length."""
    idx = InvertedIndex(analyzer=simple_analyzer)
    idx.add("body-hit", {"title": "walk", "body": "ghost at night"})
    idx.add("title-hit", {"title": "ghost", "body": "walk at night"})
    assert ids(idx, "ghost") == ["title-hit", "body-hit"]


def test_snippet_highlights_matched_terms() -> None:
    """The snippet keeps the original spelling and wraps every matched word in guillemets."""
    idx = InvertedIndex(analyzer=simple_analyzer)
    idx.add("s", {"title": "Hamlet", "body": "To be, or not to be, that is the Question."})
    [hit] = idx.search("question OR be")
    assert hit.snippet == "To «be», or not to «be», that is the «Question»."


def test_remove_then_search(index: InvertedIndex) -> None:
    """A removed document is no longer found and no longer counts in the statistics."""
    assert index.remove("d1") is True
    assert index.remove("d1") is False
    assert ids(index, "ghost") == []
    assert ids(index, "king") == ["d2"]
    assert "ghost" not in index._postings
    assert index._total_lengths["body"] == 6


def test_add_replaces_an_existing_document(index: InvertedIndex) -> None:
    """Adding an id again replaces the old text."""
    index.add("d1", {"title": "", "body": "water"})
    assert ids(index, "ghost") == []
    assert sorted(ids(index, "water")) == ["d1", "d3"]


def test_persist_and_reload_give_the_same_results(index: InvertedIndex, tmp_path: Path) -> None:
    """Save + load round-trips: same hits, same scores, same snippets, no temp files left."""
    index.save(tmp_path)
    reloaded = InvertedIndex.load(tmp_path, analyzer=simple_analyzer)
    for query in ["ghost", "king", '"king queen"', "queen NOT king", "NOT ghost"]:
        assert reloaded.search(query) == index.search(query)
    assert [p.name for p in tmp_path.iterdir()] == [INDEX_FILE]


def test_load_rejects_another_version(index: InvertedIndex, tmp_path: Path) -> None:
    """An index of an unknown format version is refused, not misread."""
    path = index.save(tmp_path)
    lines = path.read_text().splitlines()
    header = json.loads(lines[0]) | {"version": 99}
    path.write_text("\n".join([json.dumps(header), *lines[1:]]))
    with pytest.raises(IndexFormatError, match="version 99"):
        InvertedIndex.load(tmp_path)


def test_load_without_a_saved_index_says_so(tmp_path: Path) -> None:
    """A folder with no index raises IndexNotFoundError naming the folder, not a raw OS error."""
    with pytest.raises(IndexNotFoundError) as caught:
        InvertedIndex.load(tmp_path / "missing")
    assert str(caught.value) == f"no PDF index in {tmp_path / 'missing'}"
    assert "Errno" not in str(caught.value)


@pytest.mark.parametrize(
    ("query", "position", "reason"),
    [
        ("ghost AND", 9, "query ends where a word was expected"),
        ("(ghost OR king", 14, "expected ')'"),
        ("ghost) king", 5, "unmatched ')'"),
        ('king "queen', 5, "unterminated phrase"),
        ("OR ghost", 0, "expected a word, phrase or '(' but found 'OR'"),
        ("()", 1, "empty parentheses"),
        ("   ", 3, "empty query"),
        ('""', 0, "empty phrase"),
    ],
)
def test_bad_query_reports_position(index: InvertedIndex, query: str, position: int, reason: str) -> None:
    """A query that does not parse raises QuerySyntaxError with the offset of the problem."""
    with pytest.raises(QuerySyntaxError) as caught:
        index.search(query)
    assert caught.value.position == position
    assert caught.value.reason == reason


def test_unknown_field_is_refused() -> None:
    """Fields must have a weight."""
    with pytest.raises(ValueError, match="unknown fields"):
        InvertedIndex(analyzer=simple_analyzer).add("x", {"author": "Shakespeare"})


def test_default_analyzer_stems_and_ignores_bare_stopwords() -> None:
    """The shared chain is the default: words are stemmed, and a bare stopword matches nothing."""
    idx = InvertedIndex()
    idx.add("g", {"title": "Ghosts", "body": "The ghosts walked the platforms"})
    assert [h.doc_id for h in idx.search("ghost")] == ["g"]
    assert idx.search("the") == []
    assert idx.ignored_words("the ghost OR (NOT a) walked") == ["the", "a"]
    assert "«ghosts»" in idx.search("ghost")[0].snippet


def test_a_phrase_of_stopwords_matches_with_the_default_analyzer() -> None:
    """Stopwords are indexed, so "to be or not to be" finds the soliloquy and only it."""
    idx = InvertedIndex()
    idx.add("hamlet", {"title": "Hamlet", "body": "To be, or not to be, that is the question:"})
    idx.add("other", {"title": "Other", "body": "Not to be trusted, or to be feared."})
    assert [h.doc_id for h in idx.search('"to be or not to be"')] == ["hamlet"]
    assert [h.doc_id for h in idx.search('"to be or not" AND hamlet')] == ["hamlet"]
    assert idx.ignored_words('"to be or not to be"') == []
    [hit] = idx.search('"that is the question"')
    assert hit.snippet == "To be, or not to be, «that» «is» «the» «question»:"


def test_a_phrase_keeps_the_gaps_of_its_stopwords() -> None:
    """A phrase matches its stopwords in place: "nobler in the mind" is not "nobler mind"."""
    idx = InvertedIndex()
    idx.add("h", {"title": "", "body": "Whether 'tis nobler in the mind to suffer"})
    assert [h.doc_id for h in idx.search('"nobler in the mind"')] == ["h"]
    assert idx.search('"nobler mind"') == []
    assert idx.search('"nobler on the mind"') == []


def test_an_index_saved_before_stopwords_were_kept_is_re_analysed(tmp_path: Path) -> None:
    """Terms saved by the old default (no stopwords) are not reused: stopword phrases match after load."""
    from folio.textanalysis.api import analyze

    old = InvertedIndex(analyzer=analyze)
    old.add("hamlet", {"title": "Hamlet", "body": "To be, or not to be"})
    old.save(tmp_path)
    assert old.search('"to be or not"') == []
    assert [h.doc_id for h in InvertedIndex.load(tmp_path).search('"to be or not"')] == ["hamlet"]
