"""A positional inverted index with BM25F ranking, boolean and phrase queries, and snippets.

Data layout in memory (the file on disk is described in :meth:`InvertedIndex.save`):

* each document has an ordinal, an int never reused; ``_ids[ordinal]`` is its id;
* ``_postings``: term -> :class:`_Postings`: the ordinals of the documents holding the term,
  ascending, in an ``array('I')``; per field a term-frequency array aligned with them; and
  per document the positions (indexes among the analysed terms), read by phrase queries only;
* per field, each document's length in terms and the corpus total; the BM25 length norms
  ``1 - b + b * len / avglen`` are computed once after a write, not per query;
* per document, once it has been shown, a snippet map: the character spans of the body's
  words and, per term, the words yielding it, so a snippet never re-analyses the text.

A query evaluates its boolean tree on sets of ordinals, accumulates BM25F over the matching
documents only, keeps the best ``top`` with a heap, and cuts snippets for those alone.

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

Stopwords are indexed like every other word (the default ``analyzer`` keeps them), so a
phrase made of them ("to be or not to be") matches at consecutive positions, and a phrase
such as "nobler in the mind" no longer matches "nobler mind". A bare query word goes
through ``word_analyzer`` instead, which drops stopwords: alone, "the" would match every
document; :meth:`InvertedIndex.ignored_words` names the words a query loses that way.
Stopwords cost ranking nothing: their idf is near zero, and a query that does not name one
never reads its postings.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
import os
import re
import tempfile
import unicodedata
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from folio.pdfindex.query import And, Node, Not, Or, Phrase, Word, parse_query
from folio.textanalysis.api import analyze

FORMAT_NAME = "folio-pdfindex"
FORMAT_VERSION = 2
# Version 1 held the text only; it is still read (and re-analysed), see InvertedIndex.load.
_READABLE_VERSIONS = (1, FORMAT_VERSION)
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


def every_word_analyzer(text: str) -> list[str]:
    """The shared analysis chain keeping stopwords: every word of ``text`` gives its terms, in order.

    The default index analyzer: phrases of stopwords need them in the index.
    """
    return analyze(text, remove_stopwords=False)


class IndexFormatError(Exception):
    """An index file on disk is missing, damaged or of an unknown version."""


class IndexNotFoundError(IndexFormatError):
    """No index has been saved in the directory yet."""

    def __init__(self, directory: Path) -> None:
        super().__init__(f"no PDF index in {directory}")
        self.directory = directory


@dataclass(frozen=True)
class SearchHit:
    """One ranked result."""

    doc_id: str
    score: float
    title: str
    snippet: str


@dataclass(frozen=True, slots=True)
class _SnippetMap:
    """Where the words of a document's snippet text are, and which words yield each term.

    Built on the document's first snippet and kept, so later snippets are cut from the stored
    spans and never re-analyse the text (re-analysing every word of every returned document
    was 99 % of a query's time before). Built lazily rather than in ``add`` because most
    documents are never shown, and a loaded index then pays for none of them.
    """

    text: str
    starts: array[int]
    ends: array[int]
    words_by_term: dict[str, list[int]]


@dataclass(slots=True)
class _Document:
    ordinal: int
    fields: dict[str, str]
    terms: tuple[str, ...]  # distinct terms in any field, so remove() need not re-analyse
    meta: dict[str, str] = field(default_factory=dict)
    snippet_map: _SnippetMap | None = None  # built by the first snippet() of this document


class _Postings:
    """The documents holding one term, in ascending ordinal order.

    ``tfs[f][i]`` is the term's frequency in field ``f`` (in ``field_weights`` order) of
    document ``docs[i]``; ``positions[i]`` maps a field to the term's positions there and is
    read only by phrase queries, so ranking touches nothing but two flat arrays per term.
    """

    __slots__ = ("docs", "positions", "tfs")

    def __init__(self, field_count: int) -> None:
        self.docs: array[int] = array("I")
        self.tfs: list[array[int]] = [array("I") for _ in range(field_count)]
        self.positions: list[dict[str, array[int]]] = []

    def find(self, ordinal: int) -> int:
        """The index of ``ordinal`` in ``docs``, or -1 when the term is not in that document."""
        i = bisect_left(self.docs, ordinal)
        return i if i < len(self.docs) and self.docs[i] == ordinal else -1


# Above this many distinct word forms the per-word analysis memo is dropped and rebuilt, so a
# long-lived index over an open vocabulary cannot grow it without bound.
_WORD_MEMO_LIMIT = 500_000
# When the matching documents are this many times fewer than a term's postings, scoring looks
# each of them up (binary search) instead of scanning the postings.
_LOOKUP_RATIO = 8


class InvertedIndex:
    """An in-memory positional index; :meth:`save` and :meth:`load` keep it on disk.

    ``analyzer`` turns documents and quoted phrases into terms (default: the shared chain
    with stopwords kept, :func:`every_word_analyzer`); ``word_analyzer`` turns a bare query
    word into terms and may only drop terms ``analyzer`` gives for it, never add others
    (default: :func:`~folio.textanalysis.api.analyze`, stopwords dropped, when ``analyzer``
    is the default; ``analyzer`` itself otherwise).

    Not thread-safe: one writer at a time, and no reads during a write.
    """

    def __init__(
        self,
        *,
        field_weights: Mapping[str, float] = DEFAULT_FIELD_WEIGHTS,
        analyzer: Analyzer | None = None,
        word_analyzer: Analyzer | None = None,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        self.field_weights = dict(field_weights)
        self.analyzer: Analyzer = analyzer or every_word_analyzer
        self.word_analyzer: Analyzer = word_analyzer or (analyze if analyzer is None else analyzer)
        self.k1 = k1
        self.b = b
        self._field_names: tuple[str, ...] = tuple(self.field_weights)
        self._docs: dict[str, _Document] = {}
        # Ordinals are handed out in increasing order and never reused, so appending a new
        # document keeps every postings array sorted; a removed document's slot stays behind
        # with an empty id and zero lengths until the index is saved and loaded again.
        self._ids: list[str] = []
        self._postings: dict[str, _Postings] = {}
        self._total_lengths: dict[str, int] = dict.fromkeys(self.field_weights, 0)
        self._lengths: dict[str, array[int]] = {name: array("I") for name in self.field_weights}
        self._norms: list[list[float]] | None = None  # per field, by ordinal; None after a write
        self._word_terms: dict[str, frozenset[str]] = {}

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
        analysed = {name: self.analyzer(text) for name, text in fields.items()}
        self._add_analysed(doc_id, fields, analysed, meta=meta)

    def _add_analysed(
        self,
        doc_id: str,
        fields: Mapping[str, str],
        analysed: Mapping[str, list[str]],
        *,
        meta: Mapping[str, str] | None,
    ) -> None:
        """Index a document whose fields this index's analyzer has already turned into terms."""
        self.remove(doc_id)
        ordinal = len(self._ids)
        lengths: dict[str, int] = {}
        by_term: dict[str, dict[str, array[int]]] = {}
        for name, terms in analysed.items():
            lengths[name] = len(terms)
            for position, term in enumerate(terms):
                by_field = by_term.get(term)
                if by_field is None:
                    by_term[term] = by_field = {}
                positions = by_field.get(name)
                if positions is None:
                    by_field[name] = array("I", (position,))
                else:
                    positions.append(position)
        for term, by_field in by_term.items():
            postings = self._postings.get(term)
            if postings is None:
                self._postings[term] = postings = _Postings(len(self._field_names))
            postings.docs.append(ordinal)
            for tfs, name in zip(postings.tfs, self._field_names, strict=True):
                positions = by_field.get(name)
                tfs.append(len(positions) if positions is not None else 0)
            postings.positions.append(by_field)
        for name in self._field_names:
            self._lengths[name].append(lengths.get(name, 0))
            self._total_lengths[name] += lengths.get(name, 0)
        self._ids.append(doc_id)
        self._docs[doc_id] = _Document(
            ordinal=ordinal,
            fields=dict(fields),
            terms=tuple(by_term),
            meta=dict(meta or {}),
        )
        self._norms = None

    def remove(self, doc_id: str) -> bool:
        """Forget ``doc_id``; returns whether it was there."""
        doc = self._docs.pop(doc_id, None)
        if doc is None:
            return False
        for name in self._field_names:
            self._total_lengths[name] -= self._lengths[name][doc.ordinal]
            self._lengths[name][doc.ordinal] = 0
        self._ids[doc.ordinal] = ""
        for term in doc.terms:
            postings = self._postings[term]
            i = postings.find(doc.ordinal)
            del postings.docs[i]
            for tfs in postings.tfs:
                del tfs[i]
            del postings.positions[i]
            if not postings.docs:
                del self._postings[term]
        self._norms = None
        return True

    def _snippet_map(self, text: str) -> _SnippetMap:
        """Spans of the words of ``text`` and, per term, the words yielding it (see snippet)."""
        if len(self._word_terms) > _WORD_MEMO_LIMIT:
            self._word_terms.clear()
        memo = self._word_terms
        starts: array[int] = array("I")
        ends: array[int] = array("I")
        words_by_term: dict[str, list[int]] = {}
        for index, match in enumerate(_WORD.finditer(text)):
            word = match.group()
            terms = memo.get(word)
            if terms is None:
                memo[word] = terms = frozenset(self.analyzer(word))
            starts.append(match.start())
            ends.append(match.end())
            for term in terms:
                words_by_term.setdefault(term, []).append(index)
        return _SnippetMap(text=text, starts=starts, ends=ends, words_by_term=words_by_term)

    # -- reading -------------------------------------------------------------------------
    def document_fields(self, doc_id: str) -> dict[str, str]:
        """The stored text of a document's fields."""
        return dict(self._docs[doc_id].fields)

    def idf(self, term: str) -> float:
        """Inverse document frequency of an analysed term (see the module docstring)."""
        postings = self._postings.get(term)
        return self._idf(len(postings.docs) if postings is not None else 0)

    def _idf(self, df: int) -> float:
        return math.log(1 + (len(self._docs) - df + 0.5) / (df + 0.5))

    def score(self, doc_id: str, terms: Iterable[str]) -> float:
        """BM25F score of ``doc_id`` for analysed ``terms`` (each distinct term counted once)."""
        ordinal = self._docs[doc_id].ordinal
        return self._accumulate(sorted(set(terms)), {ordinal}).get(ordinal, 0.0)

    def ignored_words(self, query: str) -> list[str]:
        """The bare words of ``query`` that match nothing by themselves (stopwords), in order.

        They constrain nothing; quoted in a phrase they would count.

        Raises:
            QuerySyntaxError: the query does not parse.
        """
        ignored: list[str] = []
        pending: list[Node] = [parse_query(query)]
        while pending:
            node = pending.pop()
            if isinstance(node, Word):
                if not self.word_analyzer(node.text):
                    ignored.append(node.text)
            elif isinstance(node, Not):
                pending.append(node.part)
            elif isinstance(node, And | Or):
                pending.extend(reversed(node.parts))
        return ignored

    def search(self, query: str, *, top: int = 10) -> list[SearchHit]:
        """The ``top`` best documents for ``query``, best first (ties by doc id).

        Only the matching documents are scored, a heap keeps the best ``top``, and snippets
        are cut for those alone.

        Raises:
            QuerySyntaxError: the query does not parse.
            ValueError: ``top`` is negative.
        """
        if top < 0:
            raise ValueError(f"top must be 0 or more, not {top}")
        node = parse_query(query)
        positive: set[str] = set()
        matched = self._evaluate(node, positive, negated=False) or set()
        terms = sorted(positive)
        scores = self._accumulate(terms, matched)
        best = heapq.nsmallest(top, ((-scores.get(o, 0.0), self._ids[o]) for o in matched))
        return [
            SearchHit(
                doc_id=doc_id,
                score=-negated_score,
                title=self._docs[doc_id].fields.get("title", ""),
                snippet=self.snippet(doc_id, terms),
            )
            for negated_score, doc_id in best
        ]

    def _field_norms(self) -> list[list[float]]:
        """Per field, each ordinal's BM25 length norm; recomputed on the first read after a write."""
        if self._norms is None:
            count = len(self._docs)
            norms: list[list[float]] = []
            for name in self._field_names:
                average = self._total_lengths[name] / count if count else 0.0
                lengths = self._lengths[name]
                if average:
                    norms.append([1 - self.b + self.b * length / average for length in lengths])
                else:
                    norms.append([1 - self.b] * len(lengths))
            self._norms = norms
        return self._norms

    def _accumulate(self, terms: list[str], candidates: set[int]) -> dict[int, float]:
        """BM25F of each candidate ordinal holding any of ``terms``, summed in ``terms`` order.

        The order is fixed (callers sort) so :meth:`score` and :meth:`search` add the same
        floats in the same order and agree to the last bit.
        """
        scores: dict[int, float] = {}
        if not candidates:
            return scores
        norms = self._field_norms()
        weighted = [(self.field_weights[name], norms[f]) for f, name in enumerate(self._field_names)]
        for term in terms:
            postings = self._postings.get(term)
            if postings is None:
                continue
            idf = self._idf(len(postings.docs))
            if len(candidates) * _LOOKUP_RATIO < len(postings.docs):
                pairs = [(i, o) for o in candidates if (i := postings.find(o)) >= 0]
            else:
                pairs = [(i, o) for i, o in enumerate(postings.docs) if o in candidates]
            for i, ordinal in pairs:
                pseudo_tf = 0.0
                for tfs, (weight, field_norms) in zip(postings.tfs, weighted, strict=True):
                    tf = tfs[i]
                    if tf:
                        pseudo_tf += weight * tf / field_norms[ordinal]
                scores[ordinal] = scores.get(ordinal, 0.0) + idf * pseudo_tf / (self.k1 + pseudo_tf)
        return scores

    def _evaluate(self, node: Node, positive: set[str], *, negated: bool) -> set[int] | None:
        """Matching ordinals, or None for "no constraint" (a word the analyzer drops entirely)."""
        if isinstance(node, Word | Phrase):
            terms = (self.word_analyzer if isinstance(node, Word) else self.analyzer)(node.text)
            if terms and not negated:
                positive.update(terms)
            if len(terms) > 1 and isinstance(node, Word):
                # A word the analyzer splits in several terms ("½") is matched as a phrase of
                # all its terms, since the index holds them at consecutive positions.
                return self._phrase_docs(self.analyzer(node.text))
            return self._term_docs(terms) if terms else None
        if isinstance(node, Not):
            inner = self._evaluate(node.part, positive, negated=not negated)
            return None if inner is None else {d.ordinal for d in self._docs.values()} - inner
        results = [
            r for r in (self._evaluate(p, positive, negated=negated) for p in node.parts) if r is not None
        ]
        if not results:
            return None
        if isinstance(node, And):
            return set.intersection(*results)
        assert isinstance(node, Or)  # noqa: S101 - the Node union is closed
        return set.union(*results)

    def _term_docs(self, terms: list[str]) -> set[int]:
        """Ordinals holding the one term, or the terms as a phrase."""
        if len(terms) > 1:
            return self._phrase_docs(terms)
        postings = self._postings.get(terms[0])
        return set(postings.docs) if postings is not None else set()

    def _phrase_docs(self, terms: list[str]) -> set[int]:
        """Ordinals where ``terms`` occur at consecutive positions of one field."""
        lists = [self._postings.get(t) for t in terms]
        present = [p for p in lists if p is not None]
        if len(present) < len(lists):
            return set()
        candidates = set.intersection(*(set(p.docs) for p in present))
        found: set[int] = set()
        for ordinal in candidates:
            per_term = [p.positions[p.find(ordinal)] for p in present]
            for name in self._field_names:
                if not all(name in positions for positions in per_term):
                    continue
                later = [set(positions[name]) for positions in per_term[1:]]
                if any(all(start + i + 1 in s for i, s in enumerate(later)) for start in per_term[0][name]):
                    found.add(ordinal)
                    break
        return found

    def snippet(self, doc_id: str, terms: Iterable[str], *, width: int = 30) -> str:
        """About ``width`` words of the body around the densest match, matches in «guillemets».

        Each word of the text is analysed on its own (once per document, see _SnippetMap) and
        highlighted when it yields a query term, so stemming analyzers highlight "ghosts" for
        a query "ghost".
        """
        doc = self._docs[doc_id]
        if doc.snippet_map is None:
            doc.snippet_map = self._snippet_map(doc.fields.get("body") or doc.fields.get("title", ""))
        spans = doc.snippet_map
        count = len(spans.starts)
        if not count:
            return ""
        hits = sorted({w for term in set(terms) for w in spans.words_by_term.get(term, ())})
        if not hits:
            start, end = 0, min(count, width)
        else:
            # The first hit opening the window of ``width`` words with the most hits in it.
            best, best_count = hits[0], 0
            for i, hit in enumerate(hits):
                in_window = bisect_left(hits, hit + width, i) - i
                if in_window > best_count:
                    best, best_count = hit, in_window
            start = max(0, best - width // 4)
            end = min(count, start + width)
        text, starts, ends = spans.text, spans.starts, spans.ends
        hit_set = set(hits)
        parts: list[str] = []
        cursor = starts[start]
        for i in range(start, end):
            parts.append(text[cursor : starts[i]])
            word = text[starts[i] : ends[i]]
            parts.append(f"«{word}»" if i in hit_set else word)
            cursor = ends[i]
        parts.append(text[cursor : starts[end]] if end < count else text[cursor:])
        body = " ".join("".join(parts).split())
        prefix = "… " if start > 0 else ""
        suffix = " …" if end < count else ""
        return f"{prefix}{body}{suffix}"

    # -- persistence ---------------------------------------------------------------------
    def save(self, directory: Path) -> Path:
        """Write the index to ``directory/index.jsonl`` atomically (temp file, fsync, rename).

        The format (version 2) is JSON lines: a header ``{"format", "version", "field_weights",
        "k1", "b", "analyzer"}``, a line ``{"vocabulary": [term, ...]}``, then one line per
        document ``{"doc", "fields", "meta", "terms"}`` where ``terms`` maps each field to its
        analysed terms, in order, as indexes into the vocabulary. Loading rebuilds the
        postings from those terms without running the analyzer, which is most of the cost of
        indexing; ``analyzer`` is a fingerprint of the analyzer that wrote them, and a loader
        whose analyzer differs re-analyses the stored text instead (the text stays the source
        of truth).
        """
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / INDEX_FILE
        header = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "field_weights": self.field_weights,
            "k1": self.k1,
            "b": self.b,
            "analyzer": analyzer_fingerprint(self.analyzer),
        }
        vocabulary = sorted(self._postings)
        term_ids = {term: i for i, term in enumerate(vocabulary)}
        fd, tmp_name = tempfile.mkstemp(prefix=".index-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(json.dumps(header) + "\n")
                out.write(json.dumps({"vocabulary": vocabulary}, ensure_ascii=False) + "\n")
                for doc_id in sorted(self._docs):
                    doc = self._docs[doc_id]
                    terms = {
                        name: [term_ids[term] for term in stream]
                        for name, stream in self._term_streams(doc).items()
                    }
                    line = {"doc": doc_id, "fields": doc.fields, "meta": doc.meta, "terms": terms}
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
                out.flush()
                os.fsync(out.fileno())
            Path(tmp_name).replace(target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return target

    def _term_streams(self, doc: _Document) -> dict[str, list[str]]:
        """The analysed terms of each of ``doc``'s fields, in order, read back from the postings."""
        streams = {name: [""] * self._lengths[name][doc.ordinal] for name in doc.fields}
        for term in doc.terms:
            postings = self._postings[term]
            for name, positions in postings.positions[postings.find(doc.ordinal)].items():
                stream = streams[name]
                for position in positions:
                    stream[position] = term
        return streams

    @classmethod
    def load(
        cls, directory: Path, *, analyzer: Analyzer | None = None, word_analyzer: Analyzer | None = None
    ) -> InvertedIndex:
        """Read an index written by :meth:`save`, this version or version 1.

        A version-1 file (text only) is migrated on the fly: its text is analysed as it is
        read, and the next :meth:`save` writes version 2. So is a version-2 file whose
        analyzer fingerprint differs from ``analyzer``'s (an index saved before stopwords
        were indexed, for one).

        Raises:
            IndexNotFoundError: no index was saved in ``directory``.
            IndexFormatError: a damaged file, or a version this code cannot read.
        """
        path = directory / INDEX_FILE
        if not path.is_file():
            raise IndexNotFoundError(directory)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
            header: dict[str, Any] = json.loads(lines[0])
        except (OSError, IndexError, ValueError) as exc:
            raise IndexFormatError(f"no readable index at {path}: {exc}") from exc
        version = header.get("version")
        if header.get("format") != FORMAT_NAME or version not in _READABLE_VERSIONS:
            raise IndexFormatError(
                f"{path}: format {header.get('format')!r} version {version!r},"
                f" expected {FORMAT_NAME!r} version {' or '.join(map(str, _READABLE_VERSIONS))}"
            )
        try:
            index = cls(
                field_weights=header["field_weights"],
                analyzer=analyzer,
                word_analyzer=word_analyzer,
                k1=header["k1"],
                b=header["b"],
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise IndexFormatError(f"{path}:1: bad header: {exc}") from exc
        first_document = 1
        vocabulary: list[str] | None = None
        if version == FORMAT_VERSION:
            first_document = 2
            try:
                stored_vocabulary = json.loads(lines[1])["vocabulary"]
            except (IndexError, ValueError, KeyError, TypeError) as exc:
                raise IndexFormatError(f"{path}:2: no vocabulary line: {exc}") from exc
            if header.get("analyzer") == analyzer_fingerprint(index.analyzer):
                vocabulary = stored_vocabulary
        for number, line in enumerate(lines[first_document:], start=first_document + 1):
            try:
                index._load_record(json.loads(line), vocabulary)
            except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
                raise IndexFormatError(f"{path}:{number}: {exc}") from exc
        return index

    def _load_record(self, record: dict[str, Any], vocabulary: list[str] | None) -> None:
        """Add one document line of a saved index; its stored terms are used when ``vocabulary``.

        Raises:
            ValueError, KeyError, TypeError, IndexError: a damaged line (the caller says where).
        """
        fields = record["fields"]
        if vocabulary is None:
            self.add(record["doc"], fields, meta=record.get("meta"))
            return
        terms: dict[str, list[int]] = record["terms"]
        if set(terms) != set(fields) or not set(fields) <= set(self.field_weights):
            raise ValueError(f"terms for fields {sorted(terms)}, text for {sorted(fields)}")
        if any(i < 0 for ids in terms.values() for i in ids):
            raise ValueError("negative term index")
        analysed = {name: [vocabulary[i] for i in ids] for name, ids in terms.items()}
        self._add_analysed(record["doc"], fields, analysed, meta=record.get("meta"))


# Words chosen to show the usual analysis steps (case, stopwords, stemming, possessives and
# inner apostrophes, diacritics, compatibility forms), so two analyzers that treat any of them
# differently get different fingerprints. A change the probe does not show goes unseen.
_FINGERPRINT_PROBE = (
    "The Ghosts' running o'er KING'S Café naïve ﬁnd ½ 2² don't walked Æsop's 1601 "
    "être Straße hello_world nobler outrageous fortune's slings"
)


def analyzer_fingerprint(analyzer: Analyzer) -> str:
    """A short hash of the analyzer's name and of what it makes of a probe text.

    Used to decide whether terms saved by one analyzer can be reused by another.
    """
    qualname = getattr(analyzer, "__qualname__", type(analyzer).__qualname__)
    name = f"{getattr(analyzer, '__module__', '')}.{qualname}"
    probe = json.dumps([name, analyzer(_FINGERPRINT_PROBE)], ensure_ascii=False)
    return hashlib.sha256(probe.encode("utf-8")).hexdigest()[:16]


def open_index(
    directory: Path, *, field_weights: Mapping[str, float] = DEFAULT_FIELD_WEIGHTS
) -> InvertedIndex:
    """The index saved in ``directory``, or a new empty one when there is none yet."""
    if not (directory / INDEX_FILE).exists():
        return InvertedIndex(field_weights=field_weights)
    return InvertedIndex.load(directory)
