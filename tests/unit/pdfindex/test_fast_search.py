"""The fast query path: top-k selection, lazy snippets, compact postings and format version 2.

Most tests run on a generated corpus (random words from a small vocabulary, fixed seed) and
compare the index with straightforward reference implementations written here from the
definitions: a full sort, the BM25F formula of the module docstring, and the snippet rule
of re-analysing every word.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from folio.pdfindex.index import (
    FORMAT_VERSION,
    INDEX_FILE,
    IndexFormatError,
    InvertedIndex,
    SearchHit,
    simple_analyzer,
)

pytestmark = pytest.mark.unit

VOCABULARY = [
    "ghost", "king", "queen", "night", "sword", "crown", "love", "death",
    "river", "storm", "witch", "friar", "ring", "gold", "honour", "lady",
]  # fmt: skip
QUERIES = [
    "ghost",
    "king queen",
    "night OR storm",
    "love NOT death",
    '"gold ring"',
    "(witch OR friar) AND crown",
    "NOT ghost",
    "lady OR lord",
]


def generated_corpus(seed: int = 7, size: int = 60) -> dict[str, tuple[str, str]]:
    """GENERATED: ``size`` documents of random vocabulary words, as doc id -> (title, body)."""
    rng = random.Random(seed)  # noqa: S311 - generated test data, nothing secret
    corpus: dict[str, tuple[str, str]] = {}
    for n in range(size):
        title = " ".join(rng.choices(VOCABULARY, k=rng.randint(0, 3)))
        body = " ".join(rng.choices(VOCABULARY, k=rng.randint(5, 120)))
        corpus[f"doc-{n:03d}"] = (title.capitalize(), body)
    return corpus


def positive_terms(query: str) -> set[str]:
    """The words of one of the test queries that score: not operators, not after NOT."""
    return set(re.findall(r"\w+", query)) - {"AND", "OR", "NOT"} - set(re.findall(r"NOT (\w+)", query))


def build(corpus: dict[str, tuple[str, str]]) -> InvertedIndex:
    """An index of ``corpus`` with the simple analyzer, so the references can analyse by split()."""
    index = InvertedIndex(analyzer=simple_analyzer)
    for doc_id, (title, body) in corpus.items():
        index.add(doc_id, {"title": title, "body": body})
    return index


def reference_bm25f(corpus: dict[str, tuple[str, str]], doc_id: str, terms: Iterable[str]) -> float:
    """BM25F written out from the module docstring, over the raw corpus."""
    weights, k1, b = {"title": 3.0, "body": 1.0}, 1.2, 0.75
    analysed = {d: {"title": simple_analyzer(t), "body": simple_analyzer(x)} for d, (t, x) in corpus.items()}
    average = {f: sum(len(a[f]) for a in analysed.values()) / len(corpus) for f in weights}
    total = 0.0
    for term in set(terms):
        df = sum(1 for a in analysed.values() if term in a["title"] or term in a["body"])
        idf = math.log(1 + (len(corpus) - df + 0.5) / (df + 0.5))
        pseudo = sum(
            weights[f] * analysed[doc_id][f].count(term) / (1 - b + b * len(analysed[doc_id][f]) / average[f])
            for f in weights
        )
        total += idf * pseudo / (k1 + pseudo)
    return total


def reference_snippet(text: str, terms: set[str], width: int = 30) -> str:
    """The snippet rule before the fast path: analyse every word, pick the densest window."""
    words = list(re.finditer(r"\w+(?:['\u2019]\w+)*", text))
    if not words:
        return ""
    hits = [i for i, m in enumerate(words) if terms.intersection(simple_analyzer(m.group()))]
    if not hits:
        start, end = 0, min(len(words), width)
    else:
        best = max(hits, key=lambda h: sum(1 for o in hits if h <= o < h + width))
        start = max(0, best - width // 4)
        end = min(len(words), start + width)
    parts, cursor = [], words[start].start()
    for i in range(start, end):
        parts += [text[cursor : words[i].start()], f"«{words[i].group()}»" if i in hits else words[i].group()]
        cursor = words[i].end()
    parts.append(text[cursor : words[end].start()] if end < len(words) else text[cursor:])
    body = " ".join("".join(parts).split())
    return f"{'… ' if start > 0 else ''}{body}{' …' if end < len(words) else ''}"


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("top", [1, 3, 10, 1000])
def test_top_k_equals_the_head_of_a_full_sort(query: str, top: int) -> None:
    """The heap's top k are the first k of every match sorted by (-score, doc id), scores included."""
    corpus = generated_corpus()
    index = build(corpus)
    all_hits = index.search(query, top=len(corpus))
    positive = positive_terms(query)
    full_sort = sorted((-index.score(h.doc_id, positive), h.doc_id) for h in all_hits)
    hits = index.search(query, top=top)
    assert [(-h.score, h.doc_id) for h in hits] == full_sort[:top]


@pytest.mark.parametrize("query", ["ghost", "king queen", "night OR storm", "love NOT death"])
def test_scores_follow_the_bm25f_formula(query: str) -> None:
    """Every returned score equals BM25F computed from the raw text (reference written in the test)."""
    corpus = generated_corpus(seed=11)
    index = build(corpus)
    positive = positive_terms(query)
    hits = index.search(query, top=len(corpus))
    assert hits
    for hit in hits:
        assert hit.score == pytest.approx(reference_bm25f(corpus, hit.doc_id, positive), rel=1e-12)


def test_boolean_matches_follow_set_logic() -> None:
    """The documents returned are exactly those the boolean query selects on the raw words."""
    corpus = generated_corpus(seed=3)
    index = build(corpus)
    words = {d: set((t + " " + b).lower().split()) for d, (t, b) in corpus.items()}
    expected = {d for d, w in words.items() if ("witch" in w or "friar" in w) and "crown" in w}
    assert {h.doc_id for h in index.search("(witch OR friar) AND crown", top=100)} == expected
    expected = {d for d, w in words.items() if "love" in w and "death" not in w}
    assert {h.doc_id for h in index.search("love NOT death", top=100)} == expected


def test_snippets_are_built_only_for_the_returned_hits(monkeypatch: pytest.MonkeyPatch) -> None:
    """A query with many matches cuts exactly ``top`` snippets, and maps only those documents."""
    index = build(generated_corpus())
    made: list[str] = []
    original = index.snippet

    def counting_snippet(doc_id: str, terms: Iterable[str], *, width: int = 30) -> str:
        made.append(doc_id)
        return original(doc_id, terms, width=width)

    monkeypatch.setattr(index, "snippet", counting_snippet)
    assert len(index.search("night OR storm OR love", top=100)) > 5
    made.clear()
    for doc in index._docs.values():
        doc.snippet_map = None
    hits = index.search("night OR storm OR love", top=5)
    assert made == [h.doc_id for h in hits]
    assert {d for d, doc in index._docs.items() if doc.snippet_map is not None} == set(made)


@pytest.mark.parametrize("query", QUERIES)
def test_snippets_match_the_re_analysing_rule(query: str) -> None:
    """The fast snippet equals the one got by re-analysing every word of the body."""
    corpus = generated_corpus(seed=5, size=30)
    index = build(corpus)
    positive = positive_terms(query)
    for hit in index.search(query, top=30):
        assert hit.snippet == reference_snippet(corpus[hit.doc_id][1], positive)


def test_snippet_on_a_long_text_marks_the_densest_window() -> None:
    """In a long body the window starts a quarter-width before the densest run of hits."""
    index = InvertedIndex(analyzer=simple_analyzer)
    body = " ".join(["filler"] * 100 + ["ghost", "x", "ghost", "ghost"] + ["filler"] * 100 + ["ghost"])
    index.add("long", {"title": "Long", "body": body})
    [hit] = index.search("ghost")
    assert hit.snippet == reference_snippet(body, {"ghost"})
    assert hit.snippet.startswith("… filler")
    assert hit.snippet.endswith(" …")
    assert hit.snippet.count("«ghost»") == 3


def test_incremental_writes_equal_a_fresh_build() -> None:
    """After adds, replacements and removals the index answers like one built from the final texts."""
    corpus = generated_corpus(seed=9, size=40)
    index = build(corpus)
    rng = random.Random(1)  # noqa: S311 - generated test data, nothing secret
    final = dict(corpus)
    for doc_id in rng.sample(sorted(corpus), 10):
        assert index.remove(doc_id) is True
        del final[doc_id]
    for doc_id in rng.sample(sorted(final), 10):
        final[doc_id] = ("Replaced", " ".join(rng.choices(VOCABULARY, k=30)))
        index.add(doc_id, {"title": final[doc_id][0], "body": final[doc_id][1]})
    final["doc-new"] = ("New", "gold ring ghost")
    index.add("doc-new", {"title": "New", "body": "gold ring ghost"})
    fresh = build(final)
    assert len(index) == len(fresh) == len(final)
    for query in QUERIES:
        ours, theirs = index.search(query, top=100), fresh.search(query, top=100)
        assert [(h.doc_id, h.snippet) for h in ours] == [(h.doc_id, h.snippet) for h in theirs]
        assert [h.score for h in ours] == pytest.approx([h.score for h in theirs], rel=1e-12)
    for postings in index._postings.values():
        assert list(postings.docs) == sorted(postings.docs)
        assert all(len(tfs) == len(postings.docs) for tfs in postings.tfs)
        assert len(postings.positions) == len(postings.docs)


def test_top_zero_and_negative() -> None:
    """top=0 returns nothing; a negative top is refused."""
    index = build(generated_corpus(size=5))
    assert index.search("ghost OR king", top=0) == []
    with pytest.raises(ValueError, match="top must be 0 or more"):
        index.search("ghost", top=-1)


class CountingAnalyzer:
    """The simple analyzer, counting its calls (a fake, not a mock)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, text: str, /) -> list[str]:
        """The terms of ``text``; one more call counted."""
        self.calls += 1
        return simple_analyzer(text)


def test_version_2_round_trip_reuses_the_stored_terms(tmp_path: Path) -> None:
    """Save then load gives the same answers, and loading runs the analyzer only for its fingerprint."""
    corpus = generated_corpus(seed=2, size=25)
    analyzer = CountingAnalyzer()
    index = InvertedIndex(analyzer=analyzer)
    for doc_id, (title, body) in corpus.items():
        index.add(doc_id, {"title": title, "body": body}, meta={"pages": "1"})
    index.remove("doc-003")
    path = index.save(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["version"] == FORMAT_VERSION == 2
    assert "vocabulary" in json.loads(lines[1])
    analyzer.calls = 0
    reloaded = InvertedIndex.load(tmp_path, analyzer=analyzer)
    assert analyzer.calls == 1  # the fingerprint probe; no document was re-analysed
    assert "doc-003" not in reloaded
    for query in QUERIES:
        assert reloaded.search(query, top=50) == index.search(query, top=50)
    assert reloaded._docs["doc-004"].meta == {"pages": "1"}


def test_version_1_file_is_migrated(tmp_path: Path) -> None:
    """A version-1 file (text only, written here by hand) loads by re-analysis and saves as version 2."""
    header = {"format": "folio-pdfindex", "version": 1, "field_weights": {"title": 3.0, "body": 1.0}}
    records = [
        {"doc": "a", "fields": {"title": "Ghosts", "body": "The ghosts walked"}, "meta": {}},
        {"doc": "b", "fields": {"title": "Kings", "body": "kings and queens"}, "meta": {}},
    ]
    (tmp_path / INDEX_FILE).write_text(
        "\n".join(json.dumps(line) for line in [header | {"k1": 1.2, "b": 0.75}, *records]), encoding="utf-8"
    )
    index = InvertedIndex.load(tmp_path)
    assert [h.doc_id for h in index.search("ghost")] == ["a"]
    index.save(tmp_path)
    assert json.loads((tmp_path / INDEX_FILE).read_text().splitlines()[0])["version"] == 2
    assert InvertedIndex.load(tmp_path).search("queen") == index.search("queen")


def test_another_analyzer_re_analyses_the_text(tmp_path: Path) -> None:
    """Terms saved by one analyzer are not reused by a different one: the text is analysed again."""
    index = InvertedIndex(analyzer=simple_analyzer)
    index.add("g", {"title": "Ghosts", "body": "The ghosts walked"})
    index.save(tmp_path)
    assert InvertedIndex.load(tmp_path, analyzer=simple_analyzer).search("ghost") == []
    stemmed = InvertedIndex.load(tmp_path)  # the default analyzer stems "ghosts" to "ghost"
    assert [h.doc_id for h in stemmed.search("ghost")] == ["g"]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda lines: [lines[0]], "2: no vocabulary line"),
        (
            lambda lines: [lines[0], lines[1], lines[2].replace('"terms": {', '"terms": {"x": [], ')],
            ":3: terms",
        ),
        (lambda lines: [lines[0], '{"vocabulary": []}', lines[2]], ":3: list index out of range"),
        (lambda lines: [lines[0], lines[1], "{not json"], ":3:"),
        (lambda lines: [lines[0], lines[1], lines[2].replace('"body": [', '"body": [-1, ')], "negative term"),
    ],
)
def test_damaged_version_2_file_is_refused(
    tmp_path: Path, damage: Callable[[list[str]], list[str]], message: str
) -> None:
    """A damaged version-2 file raises IndexFormatError naming the line."""
    index = InvertedIndex(analyzer=simple_analyzer)
    index.add("d", {"title": "t", "body": "ghost king"})
    path = index.save(tmp_path)
    path.write_text("\n".join(damage(path.read_text().splitlines())))
    with pytest.raises(IndexFormatError, match=message):
        InvertedIndex.load(tmp_path, analyzer=simple_analyzer)


def test_search_hit_shape_is_unchanged() -> None:
    """Hits still carry id, score, title and snippet, best first."""
    index = build(generated_corpus(size=10))
    hits = index.search("ghost OR king", top=3)
    assert all(isinstance(h, SearchHit) for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_phrase_with_an_unindexed_word_and_empty_documents() -> None:
    """A phrase with a word no document has matches nothing; an empty document has no snippet."""
    index = build(generated_corpus(size=10))
    index.add("empty", {"title": "", "body": ""})
    assert index.search('"ghost unicorn"') == []
    assert index.idf("unicorn") == pytest.approx(math.log(1 + (len(index) + 0.5) / 0.5))
    assert index.snippet("empty", ["ghost"]) == ""
    assert "empty" in {h.doc_id for h in index.search("NOT ghost", top=100)}
