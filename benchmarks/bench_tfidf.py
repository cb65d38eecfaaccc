"""Folio's TF-IDF vs scikit-learn's TfidfVectorizer on the Shakespeare corpus: documents/s.

Both sides get the same pre-analysed token lists (``folio.textanalysis.analysis.analyze``,
run once, outside the timing; scikit-learn gets ``analyzer=lambda doc: doc``), so only the
TF-IDF computation is measured. Each side is timed over ``REPEATS`` runs with
``time.perf_counter``; the two matrices must agree to ``TOLERANCE``.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

from benchmarks.harness import BenchResult, Measurement
from folio.core.settings import load_settings
from folio.datasets.api import fetch, read_public_domain_texts
from folio.textanalysis.analysis import analyze
from folio.textanalysis.tfidf import TfidfModel, build_tfidf

NAME = "tfidf"
CORPUS = "shakespeare-texts"
REPEATS = int(os.environ.get("FOLIO_BENCH_REPEATS", "5"))
TOLERANCE = 1e-9


def load_corpus() -> dict[str, list[str]]:
    """The analysed Shakespeare texts by key, fetching the corpus when missing."""
    data_dir = Path(load_settings().home) / "data"
    root = fetch(CORPUS, data_dir=data_dir)
    return {work.key: analyze(work.text) for work in read_public_domain_texts(CORPUS, root)}


def _identity(doc: list[str]) -> list[str]:
    return doc


def _sklearn_fit(token_lists: Sequence[list[str]]) -> tuple[Any, Any]:
    vectorizer = TfidfVectorizer(analyzer=_identity)
    matrix = vectorizer.fit_transform(token_lists)
    return vectorizer, matrix


def _time(label: str, runs: int, documents: int, body: Callable[[], object]) -> Measurement:
    body()  # warm-up, not counted
    times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    total = sum(times)
    return Measurement(
        label=label,
        requests=runs,
        seconds=total,
        rps=documents * runs / total,
        p50_ms=statistics.median(times) * 1000,
        p99_ms=max(times) * 1000,
        errors=0,
    )


def max_abs_difference(model: TfidfModel, vectorizer: Any, matrix: Any) -> float:
    """The largest absolute difference between Folio's and scikit-learn's matrices."""
    features = [str(name) for name in vectorizer.get_feature_names_out()]
    if features != list(model.vocabulary):
        raise AssertionError("folio and scikit-learn vocabularies differ")
    theirs = np.asarray(matrix.toarray())
    column = {term: index for index, term in enumerate(features)}
    ours = np.zeros_like(theirs)
    for row, vector in enumerate(model.vectors):
        for term, weight in vector.items():
            ours[row, column[term]] = weight
    return float(np.max(np.abs(ours - theirs)))


def run() -> BenchResult:
    """Fit both on the same token lists, ``REPEATS`` times each, and check they agree."""
    documents = load_corpus()
    token_lists = list(documents.values())
    n = len(token_lists)
    folio = _time("folio", REPEATS, n, lambda: build_tfidf(documents))
    peer = _time("scikit-learn", REPEATS, n, lambda: _sklearn_fit(token_lists))
    model = build_tfidf(documents)
    vectorizer, matrix = _sklearn_fit(token_lists)
    difference = max_abs_difference(model, vectorizer, matrix)
    if difference > TOLERANCE:
        raise AssertionError(f"TF-IDF matrices differ by {difference} (> {TOLERANCE})")
    return BenchResult.comparing(
        __doc__,
        name=NAME,
        folio=folio,
        peer=peer,
        ratio_label="folio/sklearn docs/s",
        parameters={
            "corpus": CORPUS,
            "documents": n,
            "tokens": sum(len(tokens) for tokens in token_lists),
            "vocabulary": len(model.vocabulary),
            "repeats": REPEATS,
            "timer": "time.perf_counter; p50 = median run, p99 = slowest run",
            "max_abs_difference": difference,
            "tolerance": TOLERANCE,
        },
    )
