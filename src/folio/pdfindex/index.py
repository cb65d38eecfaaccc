"""A positional inverted index with BM25F ranking, boolean and phrase queries, and snippets.

Data layout:

* ``postings``: term -> {doc_id: {field: [positions]}}; positions count analysed tokens.
* ``field_lengths``: doc_id -> {field: token count}, with per-field totals for averages.

Ranking is BM25F in the "simple" form of Robertson, Zaragoza and Taylor (2004): per term,
each field's frequency is normalised by its own length and weighted, the results are
summed into one pseudo-frequency, and the BM25 saturation is applied once::

    tf~(t, d) = sum_f  w_f * tf_f(t, d) / (1 - b + b * len_f(d) / avglen_f)
    score(d)  = sum_t  idf(t) * tf~(t, d) / (k1 + tf~(t, d))
    idf(t)    = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))

with k1 = 1.2 and b = 0.75; ``df`` counts documents with the term in any field. The idf is
Lucene's variant, never negative. Only terms outside ``NOT`` score; a phrase scores as its
words. Saturating once (not per field) is the point of BM25F: a word in the title and the
body is not counted as two independent pieces of evidence.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from folio.pdfindex.query import And, Node, Not, Or, Phrase, Word, parse_query

FORMAT_NAME = "folio-pdfindex"
FORMAT_VERSION = 1
INDEX_FILE = "index.jsonl"
DEFAULT_FIELD_WEIGHTS: Mapping[str, float] = {"title": 3.0, "body": 1.0}

_APOSTROPHES = "'\u2019"
_WORD = re.compile(rf"\w+(?:[{_APOSTROPHES}]\w+)*")


class Analyzer(Protocol):
    """Turns text into index terms; the same analyzer must serve indexing and querying."""

    def __call__(self, text: str, /) -> list[str]:
        """The terms of ``text``, in order; their positions are their indexes in the list."""


def simple_analyzer(text: str) -> list[str]:
    """NFKC, casefold, words of letters and digits; no stopwords, no stemming."""
    return [
        m.group().replace("\u2019", "'")
        for m in _WORD.finditer(unicodedata.normalize("NFKC", text).casefold())
    ]


def default_analyzer() -> Analyzer:
    """The shared analyzer of ``folio.textanalysis`` when installed, else :func:`simple_analyzer`."""
    try:
        from folio.textanalysis.analysis import analyze
    except ImportError:  # pragma: no cover - textanalysis ships with folio; kept for partial installs
        return simple_analyzer
    return analyze


class IndexFormatError(Exception):
    """An index file on disk is missing, damaged or of an unknown version."""


@dataclass(frozen=True)
class SearchHit:
    """One ranked result."""

    doc_id: str
    score: float
    title: str
    snippet: str


@dataclass
class _Document:
    fields: dict[str, str]
    lengths: dict[str, int]
    meta: dict[str, str] = field(default_factory=dict)


class InvertedIndex:
    """An in-memory positional index; :meth:`save` and :meth:`load` keep it on disk.

    Not thread-safe: one writer at a time, and no reads during a write.
    """

    def __init__(
        self,
        *,
        field_weights: Mapping[str, float] = DEFAULT_FIELD_WEIGHTS,
        analyzer: Analyzer | None = None,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        self.field_weights = dict(field_weights)
        self.analyzer: Analyzer = analyzer or default_analyzer()
        self.k1 = k1
        self.b = b
        self._docs: dict[str, _Document] = {}
        self._postings: dict[str, dict[str, dict[str, list[int]]]] = {}
        self._total_lengths: dict[str, int] = dict.fromkeys(self.field_weights, 0)

    # -- writing -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._docs

    def add(self, doc_id: str, fields: Mapping[str, str], *, meta: Mapping[str, str] | None = None) -> None:
        """Index a document under ``doc_id``, replacing any document already there.

        Raises:
            ValueError: a field not in ``field_weights``.
        """
        unknown = set(fields) - set(self.field_weights)
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}; known: {sorted(self.field_weights)}")
        self.remove(doc_id)
        lengths: dict[str, int] = {}
        for name, text in fields.items():
            terms = self.analyzer(text)
            lengths[name] = len(terms)
            self._total_lengths[name] += len(terms)
            for position, term in enumerate(terms):
                self._postings.setdefault(term, {}).setdefault(doc_id, {}).setdefault(name, []).append(
                    position
                )
        self._docs[doc_id] = _Document(fields=dict(fields), lengths=lengths, meta=dict(meta or {}))

    def remove(self, doc_id: str) -> bool:
        """Forget ``doc_id``; returns whether it was there."""
        doc = self._docs.pop(doc_id, None)
        if doc is None:
            return False
        for name, length in doc.lengths.items():
            self._total_lengths[name] -= length
        for term in {t for text in doc.fields.values() for t in self.analyzer(text)}:
            postings = self._postings.get(term)
            if postings is not None:
                postings.pop(doc_id, None)
                if not postings:
                    del self._postings[term]
        return True

    # -- reading -------------------------------------------------------------------------
    def document_fields(self, doc_id: str) -> dict[str, str]:
        """The stored text of a document's fields."""
        return dict(self._docs[doc_id].fields)

    def idf(self, term: str) -> float:
        """Inverse document frequency of an analysed term (see the module docstring)."""
        df = len(self._postings.get(term, {}))
        return math.log(1 + (len(self._docs) - df + 0.5) / (df + 0.5))

    def score(self, doc_id: str, terms: Iterable[str]) -> float:
        """BM25F score of ``doc_id`` for analysed ``terms`` (each distinct term counted once)."""
        doc = self._docs[doc_id]
        total = 0.0
        for term in set(terms):
            per_field = self._postings.get(term, {}).get(doc_id)
            if not per_field:
                continue
            pseudo_tf = 0.0
            for name, positions in per_field.items():
                average = self._total_lengths[name] / len(self._docs)
                norm = 1 - self.b + self.b * (doc.lengths[name] / average if average else 0.0)
                pseudo_tf += self.field_weights[name] * len(positions) / norm
            total += self.idf(term) * pseudo_tf / (self.k1 + pseudo_tf)
        return total

    def search(self, query: str, *, top: int = 10) -> list[SearchHit]:
        """The ``top`` best documents for ``query``, best first (ties by doc id).

        Raises:
            QuerySyntaxError: the query does not parse.
        """
        node = parse_query(query)
        positive: set[str] = set()
        matched = self._evaluate(node, positive, negated=False)
        if matched is None:
            matched = set()
        scored = sorted(((self.score(d, positive), d) for d in matched), key=lambda sd: (-sd[0], sd[1]))
        return [
            SearchHit(
                doc_id=doc_id,
                score=score,
                title=self._docs[doc_id].fields.get("title", ""),
                snippet=self.snippet(doc_id, positive),
            )
            for score, doc_id in scored[:top]
        ]

    def _evaluate(self, node: Node, positive: set[str], *, negated: bool) -> set[str] | None:
        """Matching doc ids, or None for "no constraint" (a word the analyzer drops entirely)."""
        if isinstance(node, Word | Phrase):
            terms = self.analyzer(node.text)
            if not terms:
                return None
            if not negated:
                positive.update(terms)
            # A word the analyzer splits in several terms ("o'er") is matched as a phrase.
            return set(self._postings.get(terms[0], {})) if len(terms) == 1 else self._phrase_docs(terms)
        if isinstance(node, Not):
            inner = self._evaluate(node.part, positive, negated=not negated)
            return None if inner is None else set(self._docs) - inner
        results = [
            r for r in (self._evaluate(p, positive, negated=negated) for p in node.parts) if r is not None
        ]
        if not results:
            return None
        if isinstance(node, And):
            return set.intersection(*results)
        assert isinstance(node, Or)  # noqa: S101 - the Node union is closed
        return set.union(*results)

    def _phrase_docs(self, terms: list[str]) -> set[str]:
        postings = [self._postings.get(t, {}) for t in terms]
        candidates = set.intersection(*(set(p) for p in postings))
        found: set[str] = set()
        for doc_id in candidates:
            shared_fields = set.intersection(*(set(p[doc_id]) for p in postings))
            for name in shared_fields:
                later = [set(p[doc_id][name]) for p in postings[1:]]
                if any(
                    all(start + i + 1 in s for i, s in enumerate(later))
                    for start in postings[0][doc_id][name]
                ):
                    found.add(doc_id)
                    break
        return found

    def snippet(self, doc_id: str, terms: Iterable[str], *, width: int = 30) -> str:
        """About ``width`` words of the body around the densest match, matches in «guillemets».

        Each word of the text is analysed on its own and highlighted when it yields a query term,
        so stemming analyzers highlight "ghosts" for a query "ghost".
        """
        wanted = set(terms)
        doc = self._docs[doc_id]
        text = doc.fields.get("body") or doc.fields.get("title", "")
        words = list(_WORD.finditer(text))
        if not words:
            return ""
        hits = [i for i, m in enumerate(words) if wanted.intersection(self.analyzer(m.group()))]
        if not hits:
            start, end = 0, min(len(words), width)
        else:
            best = max(hits, key=lambda h: sum(1 for o in hits if h <= o < h + width))
            start = max(0, best - width // 4)
            end = min(len(words), start + width)
        hit_set = set(hits)
        parts: list[str] = []
        cursor = words[start].start()
        for i in range(start, end):
            match = words[i]
            parts.append(text[cursor : match.start()])
            parts.append(f"«{match.group()}»" if i in hit_set else match.group())
            cursor = match.end()
        parts.append(text[cursor : words[end].start()] if end < len(words) else text[cursor:])
        body = " ".join("".join(parts).split())
        prefix = "… " if start > 0 else ""
        suffix = " …" if end < len(words) else ""
        return f"{prefix}{body}{suffix}"

    # -- persistence ---------------------------------------------------------------------
    def save(self, directory: Path) -> Path:
        """Write the index to ``directory/index.jsonl`` atomically (temp file, fsync, rename).

        The format is JSON lines: a header ``{"format", "version", "field_weights", "k1", "b"}``,
        then one ``{"doc": id, "fields", "meta"}`` line per document. Postings are rebuilt on
        load: the text is the source of truth, so an index written by one analyzer version
        is re-analysed, not misread, by the next.
        """
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / INDEX_FILE
        header = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "field_weights": self.field_weights,
            "k1": self.k1,
            "b": self.b,
        }
        fd, tmp_name = tempfile.mkstemp(prefix=".index-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(json.dumps(header) + "\n")
                for doc_id in sorted(self._docs):
                    doc = self._docs[doc_id]
                    line = {"doc": doc_id, "fields": doc.fields, "meta": doc.meta}
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
                out.flush()
                os.fsync(out.fileno())
            Path(tmp_name).replace(target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return target

    @classmethod
    def load(cls, directory: Path, *, analyzer: Analyzer | None = None) -> InvertedIndex:
        """Read an index written by :meth:`save`.

        Raises:
            IndexFormatError: no index there, a damaged file, or a version this code cannot read.
        """
        path = directory / INDEX_FILE
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
            header: dict[str, Any] = json.loads(lines[0])
        except (OSError, IndexError, ValueError) as exc:
            raise IndexFormatError(f"no readable index at {path}: {exc}") from exc
        if header.get("format") != FORMAT_NAME or header.get("version") != FORMAT_VERSION:
            raise IndexFormatError(
                f"{path}: format {header.get('format')!r} version {header.get('version')!r},"
                f" expected {FORMAT_NAME!r} version {FORMAT_VERSION}"
            )
        index = cls(field_weights=header["field_weights"], analyzer=analyzer, k1=header["k1"], b=header["b"])
        for number, line in enumerate(lines[1:], start=2):
            try:
                record = json.loads(line)
                index.add(record["doc"], record["fields"], meta=record.get("meta"))
            except (ValueError, KeyError, TypeError) as exc:
                raise IndexFormatError(f"{path}:{number}: {exc}") from exc
        return index


def open_index(
    directory: Path, *, field_weights: Mapping[str, float] = DEFAULT_FIELD_WEIGHTS
) -> InvertedIndex:
    """The index saved in ``directory``, or a new empty one when there is none yet."""
    if not (directory / INDEX_FILE).exists():
        return InvertedIndex(field_weights=field_weights)
    return InvertedIndex.load(directory)
