"""Term frequency and TF-IDF over a corpus, with scikit-learn's ``TfidfVectorizer`` defaults.

For ``n`` documents, a term's document frequency ``df`` and its raw count ``tf`` in a document:

* ``idf = ln((1 + n) / (1 + df)) + 1``  (``smooth_idf=True``: as if one extra document held
  every term once, so no division by zero);
* ``weight = tf * idf`` (``sublinear_tf=False``: raw counts);
* each document vector is divided by its Euclidean (l2) norm.

Vectors are sparse (``dict`` term to weight); since they have unit length, cosine similarity
is their dot product. Documents come in already analysed (``analysis.analyze``), so the same
chain serves documents and queries.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["TfidfModel", "build_tfidf", "cosine", "term_frequencies"]

SparseVector = dict[str, float]


def term_frequencies(terms: Iterable[str]) -> Counter[str]:
    """Raw counts of each term."""
    return Counter(terms)


def _normalized(weights: Mapping[str, float]) -> SparseVector:
    """``weights`` divided by their l2 norm (an all-zero vector stays empty)."""
    norm = math.sqrt(math.fsum(weight * weight for weight in weights.values()))
    if norm == 0.0:
        return {}
    return {term: weight / norm for term, weight in weights.items()}


def cosine(left: Mapping[str, float], right: Mapping[str, float]) -> float:
    """Cosine similarity of two l2-normalised sparse vectors (their dot product)."""
    if len(left) > len(right):
        left, right = right, left
    return math.fsum(weight * right.get(term, 0.0) for term, weight in left.items())


@dataclass(frozen=True, slots=True)
class TfidfModel:
    """A fitted corpus: document names, sorted vocabulary, idf per term, one vector per document."""

    names: tuple[str, ...]
    vocabulary: tuple[str, ...]
    idf: Mapping[str, float]
    vectors: tuple[SparseVector, ...]

    def dense(self) -> list[list[float]]:
        """The document-term matrix, rows in ``names`` order, columns in ``vocabulary`` order."""
        return [[vector.get(term, 0.0) for term in self.vocabulary] for vector in self.vectors]

    def top_terms(self, name: str, n: int = 10) -> list[tuple[str, float]]:
        """The ``n`` heaviest terms of document ``name``, heaviest first, ties by term."""
        vector = self.vectors[self.names.index(name)]
        return sorted(vector.items(), key=lambda item: (-item[1], item[0]))[:n]

    def vectorize(self, terms: Iterable[str]) -> SparseVector:
        """A query's TF-IDF vector; terms outside the vocabulary are ignored."""
        counts = term_frequencies(term for term in terms if term in self.idf)
        return _normalized({term: count * self.idf[term] for term, count in counts.items()})

    def search(self, terms: Iterable[str], limit: int = 5) -> list[tuple[str, float]]:
        """Documents most similar to the query ``terms`` by cosine, best first, zero scores dropped."""
        query = self.vectorize(terms)
        pairs = zip(self.names, self.vectors, strict=True)
        scored = [(name, cosine(query, vector)) for name, vector in pairs]
        ranked = sorted((item for item in scored if item[1] > 0.0), key=lambda item: (-item[1], item[0]))
        return ranked[:limit]


def build_tfidf(documents: Mapping[str, Sequence[str]]) -> TfidfModel:
    """Fit TF-IDF over ``documents`` (name to analysed terms), formulas in the module docstring."""
    counts = {name: term_frequencies(terms) for name, terms in documents.items()}
    document_frequency: Counter[str] = Counter()
    for tf in counts.values():
        document_frequency.update(tf.keys())
    n = len(counts)
    idf = {term: math.log((1 + n) / (1 + df)) + 1.0 for term, df in document_frequency.items()}
    vectors = tuple(
        _normalized({term: count * idf[term] for term, count in tf.items()}) for tf in counts.values()
    )
    return TfidfModel(names=tuple(counts), vocabulary=tuple(sorted(idf)), idf=idf, vectors=vectors)
