"""Offline relevance evaluation: judged queries, nDCG@k and reciprocal rank, one report per tuning.

Method (``docs/search-relevance.md`` explains the choices):

- **Work keys.** Judgments name works by a key that survives a re-import: the ISBN-13
  when the work has one, otherwise ``"<source>:<source_key>"`` (``work_key``).
- **Grades** 0-3: 3 = the work the query is after, 2 = another edition of it (same
  title, same author), 1 = related (same author, or on the subject), 0 = judged not
  relevant. Unjudged works count as 0.
- **nDCG@k** uses linear gains (the grade itself) and the ``log2(rank + 1)`` discount,
  as ``sklearn.metrics.ndcg_score`` does; the ideal DCG orders *all* the query's
  judgments by grade, so a relevant work the engine never returns still costs.
- **Reciprocal rank** is ``1 / rank`` of the first work graded 1 or more (0 when none).
- Three sources of queries: a hand-judged set (``judgments/handjudged.jsonl``, JSON lines
  with ``#`` comment lines), known-item queries derived from the catalogue itself
  (``known_item_queries``), and those with one generated typo each (``misspelt_queries``).
"""

from __future__ import annotations

import json
import math
import random
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from folio.textanalysis.api import analyze, normalize_word

__all__ = [
    "HANDJUDGED_PATH",
    "EvalReport",
    "InvalidJudgedSetError",
    "JudgeableWork",
    "JudgedQuery",
    "QueryResult",
    "evaluate",
    "known_item_queries",
    "load_judged_set",
    "mean",
    "misspell",
    "misspelt_queries",
    "ndcg_at_k",
    "reciprocal_rank",
    "work_key",
]

HANDJUDGED_PATH = Path(__file__).parent / "judgments" / "handjudged.jsonl"
"""The hand-judged query set shipped with Folio."""

MAX_GRADE = 3
_MIN_TITLE_TERMS = 2
"""Titles with fewer searchable words than this get the author surname in known-item queries."""
_QUERY_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")


class InvalidJudgedSetError(ValueError):
    """A judged-set file is not valid: the message names the line and what is wrong."""


@dataclass(frozen=True)
class JudgedQuery:
    """A query and the grade (0-3) of each work judged for it, by work key."""

    query: str
    judgments: Mapping[str, int]
    note: str = ""


class JudgeableWork(Protocol):
    """What ``known_item_queries`` reads of a work (``folio.catalog.api.WorkRead`` fits)."""

    @property
    def title(self) -> str: ...  # noqa: D102
    @property
    def authors(self) -> list[str]: ...  # noqa: D102
    @property
    def isbn13(self) -> str | None: ...  # noqa: D102
    @property
    def source(self) -> str: ...  # noqa: D102
    @property
    def source_key(self) -> str: ...  # noqa: D102


def work_key(work: JudgeableWork) -> str:
    """The key judgments use for ``work``: its ISBN-13, else ``source:source_key``."""
    return work.isbn13 or f"{work.source}:{work.source_key}"


# -------------------------------------------------------------------------------------- metrics


def _grades(ranked_ids: Sequence[str], judgments: Mapping[str, int], k: int | None) -> list[int]:
    """The grade at each rank (first occurrence of an id only; unjudged = 0), cut at ``k``."""
    seen: set[str] = set()
    grades: list[int] = []
    for work_id in ranked_ids:
        if work_id in seen:
            continue
        seen.add(work_id)
        grades.append(judgments.get(work_id, 0))
        if k is not None and len(grades) == k:
            break
    return grades


def _dcg(grades: Iterable[int]) -> float:
    return sum(grade / math.log2(rank + 2) for rank, grade in enumerate(grades))


def ndcg_at_k(ranked_ids: Sequence[str], judgments: Mapping[str, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain of the top ``k`` of ``ranked_ids``, in 0..1.

    Gain = the grade, discount = ``log2(rank + 1)`` (rank from 1); the ideal ranking is
    every judgment sorted by grade. A query with no positive judgment scores 0.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    ideal = _dcg(sorted((grade for grade in judgments.values() if grade > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return _dcg(_grades(ranked_ids, judgments, k)) / ideal


def reciprocal_rank(ranked_ids: Sequence[str], judgments: Mapping[str, int], k: int | None = None) -> float:
    """``1 / rank`` of the first id graded 1 or more within the top ``k`` (all when None); 0 if none."""
    for rank, grade in enumerate(_grades(ranked_ids, judgments, k), start=1):
        if grade > 0:
            return 1.0 / rank
    return 0.0


def mean(values: Sequence[float]) -> float:
    """The arithmetic mean; 0 for no values (an empty query set scores nothing)."""
    return sum(values) / len(values) if values else 0.0


# ---------------------------------------------------------------------------------- judged sets


def load_judged_set(path: Path) -> list[JudgedQuery]:
    """Read a judged set: JSON lines ``{"query", "judgments": {key: 0-3}, "note"?}``.

    Blank lines and lines starting with ``#`` are skipped (the file documents itself).

    Raises:
        InvalidJudgedSetError: naming the line of the first malformed entry.
    """
    queries: list[JudgedQuery] = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{path.name}:{line_no}"
        try:
            entry = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise InvalidJudgedSetError(f"{where}: not JSON ({exc.msg})") from exc
        queries.append(_judged_query(entry, where))
    if not queries:
        raise InvalidJudgedSetError(f"{path}: no queries")
    return queries


def _judged_query(entry: object, where: str) -> JudgedQuery:
    if not isinstance(entry, dict):
        raise InvalidJudgedSetError(f"{where}: each line must be a JSON object")
    query, judgments, note = entry.get("query"), entry.get("judgments"), entry.get("note", "")
    if not isinstance(query, str) or not query.strip():
        raise InvalidJudgedSetError(f"{where}: 'query' must be a non-empty string")
    if not isinstance(judgments, dict) or not judgments:
        raise InvalidJudgedSetError(f"{where}: 'judgments' must be a non-empty object of work key -> grade")
    if not isinstance(note, str):
        raise InvalidJudgedSetError(f"{where}: 'note' must be a string")
    grades: dict[str, int] = {}
    for key, grade in judgments.items():
        if isinstance(grade, bool) or not isinstance(grade, int) or not 0 <= grade <= MAX_GRADE:
            raise InvalidJudgedSetError(f"{where}: the grade of {key!r} must be an integer 0-{MAX_GRADE}")
        grades[key] = grade
    if not any(grades.values()):
        raise InvalidJudgedSetError(f"{where}: at least one work must be graded 1 or more")
    unknown = set(entry) - {"query", "judgments", "note"}
    if unknown:
        raise InvalidJudgedSetError(f"{where}: unknown members {sorted(unknown)}")
    return JudgedQuery(query=query, judgments=grades, note=note)


def _query_words(text: str) -> list[str]:
    """The words of ``text`` in lower case, so that no word reads as a DSL operator or field."""
    return [word.casefold() for word in _QUERY_WORD.findall(text)]


def _surname(author: str) -> str:
    words = _query_words(author)
    return words[-1] if words else ""


def _edition_key(work: JudgeableWork) -> tuple[tuple[str, ...], str]:
    """What makes two works "the same title by the same author": analysed title, author surname."""
    surname = _surname(work.authors[0]) if work.authors else ""
    return tuple(analyze(work.title)), normalize_word(surname)


def known_item_queries(works: Sequence[JudgeableWork], *, n: int, seed: int) -> list[JudgedQuery]:
    """``n`` known-item queries derived from real works, reproducibly for a given ``seed``.

    Each sampled work gives one query: its title words (at most eight, lower-cased so
    none reads as an operator), plus the first author's surname for every other query and
    whenever the title alone has fewer than two searchable words. The work itself is
    graded 3; every other work with the same analysed title and the same first-author
    surname (another edition, a reprint) is graded 2. Works whose title has no searchable
    word (only stopwords or punctuation) are never sampled.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    editions: dict[tuple[tuple[str, ...], str], list[str]] = defaultdict(list)
    usable: list[JudgeableWork] = []
    for work in works:
        edition = _edition_key(work)
        editions[edition].append(work_key(work))
        if edition[0]:
            usable.append(work)
    rng = random.Random(seed)  # noqa: S311  # reproducible sampling, not security
    sample = rng.sample(usable, min(n, len(usable)))
    queries: list[JudgedQuery] = []
    for index, work in enumerate(sample):
        words = _query_words(work.title)[:8]
        surname = _surname(work.authors[0]) if work.authors else ""
        with_author = bool(surname) and (index % 2 == 1 or len(analyze(" ".join(words))) < _MIN_TITLE_TERMS)
        text = " ".join([*words, surname] if with_author else words)
        key = work_key(work)
        judgments = dict.fromkeys(editions[_edition_key(work)], 2)
        judgments[key] = 3
        note = f"known item {key}: title words{' + author surname' if with_author else ''}"
        queries.append(JudgedQuery(query=text, judgments=judgments, note=note))
    return queries


_MIN_TYPO_WORD = 4
"""Words shorter than this are not misspelt by ``misspelt_queries`` (nobody's typo budget covers them)."""
_EDITS = ("delete", "insert", "substitute", "transpose")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def misspell(word: str, rng: random.Random) -> tuple[str, str]:
    """``word`` with one edit drawn from ``rng`` (delete, insert, substitute, swap two letters) and its kind.

    The edit never lands on the first letter (people rarely get that wrong) and always
    changes the word.
    """
    kind = rng.choice(_EDITS)
    at = rng.randrange(1, len(word) - 1) if kind == "transpose" else rng.randrange(1, len(word))
    if kind == "delete":
        edited = word[:at] + word[at + 1 :]
    elif kind == "insert":
        edited = word[:at] + rng.choice(_LETTERS) + word[at:]
    elif kind == "substitute":
        edited = word[:at] + rng.choice(_LETTERS.replace(word[at], "")) + word[at + 1 :]
    else:
        edited = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    if edited == word:  # swapping two equal letters: delete one instead
        kind, edited = "delete", word[:at] + word[at + 1 :]
    return edited, kind


def misspelt_queries(queries: Sequence[JudgedQuery], *, seed: int) -> list[JudgedQuery]:
    """Each query with one generated typo in one of its words of four or more letters, reproducibly.

    The judgments stay those of the query as spelt, so the score says how much of the
    typo the search recovers. Queries with no such word are left out.
    """
    rng = random.Random(seed)  # noqa: S311  # reproducible edits, not security
    misspelt: list[JudgedQuery] = []
    for judged in queries:
        words = judged.query.split(" ")
        eligible = [i for i, word in enumerate(words) if len(word) >= _MIN_TYPO_WORD and word.isalpha()]
        if not eligible:
            continue
        index = rng.choice(eligible)
        original = words[index]
        words[index], kind = misspell(original, rng)
        note = f"generated misspelling ({kind} in {original!r}) of: {judged.note or judged.query}"
        misspelt.append(JudgedQuery(query=" ".join(words), judgments=judged.judgments, note=note))
    return misspelt


# ------------------------------------------------------------------------------------ evaluation


@dataclass(frozen=True)
class QueryResult:
    """One query's scores and the top of what the search returned."""

    query: str
    ndcg_at_10: float
    reciprocal_rank: float
    returned: tuple[str, ...]
    error: str | None = None


@dataclass(frozen=True)
class EvalReport:
    """Per-query results and their means."""

    results: tuple[QueryResult, ...] = field(default_factory=tuple)

    @property
    def mean_ndcg_at_10(self) -> float:
        """Mean nDCG@10 over all queries (a failed query counts as 0)."""
        return mean([result.ndcg_at_10 for result in self.results])

    @property
    def mrr(self) -> float:
        """Mean reciprocal rank over all queries."""
        return mean([result.reciprocal_rank for result in self.results])

    @property
    def failed(self) -> int:
        """How many queries the search refused or failed on."""
        return sum(result.error is not None for result in self.results)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view: the means, then every query's result."""
        return {
            "queries": len(self.results),
            "mean_ndcg_at_10": self.mean_ndcg_at_10,
            "mrr": self.mrr,
            "failed": self.failed,
            "results": [
                {
                    "query": result.query,
                    "ndcg_at_10": result.ndcg_at_10,
                    "reciprocal_rank": result.reciprocal_rank,
                    "returned": list(result.returned),
                    "error": result.error,
                }
                for result in self.results
            ],
        }


async def evaluate(
    search: Callable[[str], Awaitable[list[str]]],
    queries: Sequence[JudgedQuery],
    *,
    errors: tuple[type[Exception], ...] = (),
) -> EvalReport:
    """Run every query through ``search`` (query text -> ranked work keys) and score it.

    Queries run one after the other, so the engine sees the load of one user. An
    exception of a type in ``errors`` (say, a ``QuerySyntaxError`` for a query the DSL
    refuses) scores that query 0 and is recorded; any other exception propagates.
    """
    results: list[QueryResult] = []
    for judged in queries:
        try:
            ranked = await search(judged.query)
        except errors as exc:
            results.append(QueryResult(judged.query, 0.0, 0.0, (), error=str(exc)))
            continue
        results.append(
            QueryResult(
                query=judged.query,
                ndcg_at_10=ndcg_at_k(ranked, judged.judgments, 10),
                reciprocal_rank=reciprocal_rank(ranked, judged.judgments, 10),
                returned=tuple(ranked[:10]),
            )
        )
    return EvalReport(tuple(results))
