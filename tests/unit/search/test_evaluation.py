"""Relevance metrics, judged-set loading, known-item queries and the evaluation loop."""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import ndcg_score  # type: ignore[import-untyped]  # ships no type hints

from folio.search.dsl import QuerySyntaxError, compile_query, parse_query
from folio.search.evaluation import (
    HANDJUDGED_PATH,
    InvalidJudgedSetError,
    JudgedQuery,
    evaluate,
    known_item_queries,
    load_judged_set,
    mean,
    misspell,
    misspelt_queries,
    ndcg_at_k,
    reciprocal_rank,
    work_key,
)

pytestmark = pytest.mark.unit

JUDGMENTS = {"a": 3, "b": 2, "c": 0, "d": 1}


def test_ndcg_matches_the_hand_computed_value() -> None:
    """Ranked c, a, x, b: DCG = 3/log2(3) + 2/log2(5); ideal 3, 2, 1 = 3 + 2/log2(3) + 1/log2(4)."""
    dcg = 3 / math.log2(3) + 2 / math.log2(5)
    ideal = 3 + 2 / math.log2(3) + 1 / 2
    assert ndcg_at_k(["c", "a", "x", "b"], JUDGMENTS) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(["c", "a", "x", "b"], JUDGMENTS) == pytest.approx(0.5784, abs=1e-4)


def test_ndcg_edge_cases() -> None:
    """Ideal order scores 1, nothing relevant scores 0, k cuts the list, repeats count once."""
    assert ndcg_at_k(["a", "b", "d"], JUDGMENTS) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "y"], JUDGMENTS) == 0.0
    assert ndcg_at_k(["a"], {"a": 0}) == 0.0
    assert ndcg_at_k(["x", "a"], JUDGMENTS, k=1) == 0.0
    assert ndcg_at_k(["a", "a", "b", "d"], JUDGMENTS) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="k must be"):
        ndcg_at_k(["a"], JUDGMENTS, k=0)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 3), min_size=2, max_size=15).filter(any),
    st.randoms(use_true_random=False),
    st.integers(1, 12),
)
def test_ndcg_agrees_with_scikit_learn(grades: list[int], rng: object, k: int) -> None:
    """For any graded list and ranking, ndcg_at_k equals sklearn.metrics.ndcg_score (linear gains)."""
    ids = [f"w{index}" for index in range(len(grades))]
    ranking = list(ids)
    rng.shuffle(ranking)  # type: ignore[attr-defined]  # hypothesis's Random
    scores = [float(len(ids) - ranking.index(work_id)) for work_id in ids]  # no ties
    expected = ndcg_score([grades], [scores], k=k)
    assert ndcg_at_k(ranking, dict(zip(ids, grades, strict=True)), k) == pytest.approx(expected)


def test_reciprocal_rank() -> None:
    """1/rank of the first work graded 1 or more; 0 when none is within k."""
    assert reciprocal_rank(["c", "x", "d", "a"], JUDGMENTS) == pytest.approx(1 / 3)
    assert reciprocal_rank(["a"], JUDGMENTS) == 1.0
    assert reciprocal_rank(["c", "x"], JUDGMENTS) == 0.0
    assert reciprocal_rank(["c", "x", "a"], JUDGMENTS, k=2) == 0.0
    assert mean([1.0, 0.5, 0.0]) == pytest.approx(0.5)
    assert mean([]) == 0.0


# ---------------------------------------------------------------------------------- judged sets


def write(tmp_path: Path, *lines: str) -> Path:
    """A judged-set file in ``tmp_path`` with ``lines``."""
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_judged_set_reads_lines_and_skips_comments(tmp_path: Path) -> None:
    """JSON lines with '#' comments and blank lines: one JudgedQuery per query line."""
    path = write(
        tmp_path,
        "# a comment",
        "",
        json.dumps({"query": "king lear", "judgments": {"9780671722722": 3, "x:y": 0}, "note": "n"}),
    )
    assert load_judged_set(path) == [
        JudgedQuery(query="king lear", judgments={"9780671722722": 3, "x:y": 0}, note="n")
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not JSON"),
        ("[1]", "JSON object"),
        ('{"query": "", "judgments": {"a": 3}}', "'query'"),
        ('{"query": "q", "judgments": {}}', "'judgments'"),
        ('{"query": "q", "judgments": {"a": 4}}', "integer 0-3"),
        ('{"query": "q", "judgments": {"a": true}}', "integer 0-3"),
        ('{"query": "q", "judgments": {"a": 0}}', "graded 1 or more"),
        ('{"query": "q", "judgments": {"a": 3}, "note": 1}', "'note'"),
        ('{"query": "q", "judgments": {"a": 3}, "grade": 1}', "unknown members"),
    ],
)
def test_load_judged_set_names_the_bad_line(tmp_path: Path, line: str, message: str) -> None:
    """A malformed entry is refused with its file and line number."""
    path = write(tmp_path, "# header", line)
    with pytest.raises(InvalidJudgedSetError, match=message) as caught:
        load_judged_set(path)
    assert "set.jsonl:2" in str(caught.value)


def test_an_empty_judged_set_is_refused(tmp_path: Path) -> None:
    """A file with no queries is an error, not a perfect score."""
    with pytest.raises(InvalidJudgedSetError, match="no queries"):
        load_judged_set(write(tmp_path, "# only comments"))


def test_shipped_hand_judged_set_is_valid_and_compiles() -> None:
    """The shipped set has 25+ queries, each valid DSL, using both kinds of work key."""
    queries = load_judged_set(HANDJUDGED_PATH)
    assert len(queries) >= 25
    for judged in queries:
        compile_query(parse_query(judged.query))
        assert judged.note
    keys = {key for judged in queries for key in judged.judgments}
    assert any(key.isdigit() and len(key) == 13 for key in keys)
    prefixes = {key.split(":")[0] for key in keys if ":" in key}
    assert prefixes == {"shakespeare-texts", "austen-novels", "bible-kjv", "devils-dictionary"}


# ------------------------------------------------------------------------------ known items


@dataclass(frozen=True)
class GeneratedWork:
    """A generated stand-in for a catalogued work."""

    title: str
    authors: list[str] = field(default_factory=list)
    isbn13: str | None = None
    source: str = "generated"
    source_key: str = ""


GENERATED_WORKS = [
    GeneratedWork("King Lear", ["William Shakespeare"], "9780671722722"),
    GeneratedWork("King Lear (Bantam Classics)", ["Shakespeare, William"], "9780553212976"),
    GeneratedWork("KING LEAR", ["W. Shakespeare"], "9780671727666"),
    GeneratedWork("King Leary", ["Paul Quarrington"], "9780385251389"),
    GeneratedWork("King Lear", ["Alan Durband"], "9780748703272"),
    GeneratedWork("The Running Man: A Novel of the Future", ["Richard Bachman"], None, "gen", "rm"),
    GeneratedWork("The", ["Nobody"], None, "gen", "the"),
]


def test_work_key_prefers_the_isbn() -> None:
    """ISBN-13 when there is one, else source:source_key."""
    assert work_key(GENERATED_WORKS[0]) == "9780671722722"
    assert work_key(GENERATED_WORKS[5]) == "gen:rm"


def test_known_item_queries_grade_the_item_and_its_other_editions() -> None:
    """The sampled work is graded 3; same analysed title and author surname 2; others unjudged."""
    queries = known_item_queries(GENERATED_WORKS, n=10, seed=1)
    by_item = {next(k for k, g in q.judgments.items() if g == 3): q for q in queries}
    lear = by_item["9780671722722"]
    assert lear.judgments == {"9780671722722": 3, "9780671727666": 2}
    assert by_item["9780748703272"].judgments == {"9780748703272": 3}
    # "Shakespeare, William" has surname "william" by the rule (last word): not an edition of the others.
    assert by_item["9780553212976"].judgments == {"9780553212976": 3}
    assert "gen:the" not in by_item  # a title of stopwords only is never sampled
    assert len(queries) == 6


def test_known_item_queries_are_reproducible_and_valid_dsl() -> None:
    """Same seed, same queries; every query is lower-case words that parse as free text."""
    first = known_item_queries(GENERATED_WORKS, n=4, seed=7)
    assert first == known_item_queries(GENERATED_WORKS, n=4, seed=7)
    assert len(first) == 4
    for judged in known_item_queries(GENERATED_WORKS, n=10, seed=3):
        assert judged.query == judged.query.lower()
        compiled = compile_query(parse_query(judged.query))
        assert compiled.filter_by == ""


def test_known_item_query_forms() -> None:
    """Odd-numbered queries add the author surname; one-word titles always do; titles keep at most 8 words."""
    works = [
        GeneratedWork("Emma", ["Jane Austen"], "9780141439587"),
        GeneratedWork("One Two Three Four Five Six Seven Eight Nine Ten", ["A B"], "9780306406157"),
    ]
    queries = {q.note.split()[2].rstrip(":"): q for q in known_item_queries(works, n=2, seed=0)}
    assert queries["9780141439587"].query == "emma austen"
    assert queries["9780306406157"].query.split()[:8] == [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
    ]
    with pytest.raises(ValueError, match="negative"):
        known_item_queries(works, n=-1, seed=0)


# ---------------------------------------------------------------------------------- evaluate


async def test_evaluate_scores_each_query_and_averages() -> None:
    """Evaluate runs each query through the search function and reports per-query and mean scores."""
    answers = {"lear": ["a", "b"], "emma": ["x", "d"]}

    async def search(query: str) -> list[str]:
        return answers[query]

    queries = [JudgedQuery("lear", JUDGMENTS), JudgedQuery("emma", JUDGMENTS)]
    report = await evaluate(search, queries)
    assert [r.reciprocal_rank for r in report.results] == [1.0, 0.5]
    assert report.mrr == pytest.approx(0.75)
    expected = mean([ndcg_at_k(answers[q.query], JUDGMENTS) for q in queries])
    assert report.mean_ndcg_at_10 == pytest.approx(expected)
    assert report.failed == 0
    body = report.to_dict()
    assert body["queries"] == 2
    assert body["results"][0]["returned"] == ["a", "b"]  # type: ignore[index]


async def test_evaluate_records_refused_queries_as_zero() -> None:
    """A query the search refuses with an expected error scores 0 and is counted; other errors propagate."""

    async def search(query: str) -> list[str]:
        compile_query(parse_query(query))
        return ["a"]

    report = await evaluate(
        search, [JudgedQuery("(lear", JUDGMENTS), JudgedQuery("lear", JUDGMENTS)], errors=(QuerySyntaxError,)
    )
    assert report.failed == 1
    assert report.results[0].error is not None
    assert report.results[0].ndcg_at_10 == 0.0
    assert report.mrr == pytest.approx(0.5)
    with pytest.raises(QuerySyntaxError):
        await evaluate(search, [JudgedQuery("(lear", JUDGMENTS)])


def test_cli_variant_names_are_the_named_tunings() -> None:
    """`folio search eval --variant` offers exactly the tunings dsl.TUNINGS defines, in order."""
    from folio.search.cli import VARIANT_NAMES
    from folio.search.dsl import TUNINGS

    assert tuple(TUNINGS) == VARIANT_NAMES


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one deletion, insertion, substitution or adjacent swap."""
    if a == b:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diffs) == 1 or (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    short, long = sorted((a, b), key=len)
    return len(long) == len(short) + 1 and any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=4, max_size=12), st.integers(0, 10_000))
def test_misspell_makes_exactly_one_edit_after_the_first_letter(word: str, seed: int) -> None:
    """A generated misspelling is one edit from the word, keeps its first letter, and names its kind."""
    edited, kind = misspell(word, random.Random(seed))  # noqa: S311  # reproducible, not security
    assert _one_edit_apart(word, edited)
    assert edited[0] == word[0]
    assert kind in {"delete", "insert", "substitute", "transpose"}


def test_misspelt_queries_are_reproducible_and_keep_the_judgments() -> None:
    """One typo per query in a word of 4+ letters, the same per seed; queries without such a word go."""
    queries = [
        JudgedQuery("harry potter chamber secrets", {"a": 3}, note="generated"),
        JudgedQuery("it", {"b": 3}),
        JudgedQuery("hamlet", {"c": 3, "d": 2}),
    ]
    first = misspelt_queries(queries, seed=3)
    assert first == misspelt_queries(queries, seed=3)
    assert [q.judgments for q in first] == [{"a": 3}, {"c": 3, "d": 2}]
    for typed, spelt in zip(first, [queries[0], queries[2]], strict=True):
        changed = [(a, b) for a, b in zip(spelt.query.split(), typed.query.split(), strict=True) if a != b]
        assert len(changed) == 1
        assert _one_edit_apart(*changed[0])
        assert "generated misspelling" in typed.note
