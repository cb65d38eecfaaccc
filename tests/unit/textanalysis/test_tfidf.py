"""Our TF-IDF equals scikit-learn's TfidfVectorizer defaults; top terms, search, reports."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

from folio.textanalysis.analysis import analyze
from folio.textanalysis.report import render_csv, render_html, top_terms_by_work
from folio.textanalysis.tfidf import build_tfidf

pytestmark = pytest.mark.unit

# Opening lines of public-domain works (Project Gutenberg texts of Shakespeare).
CORPUS = {
    "hamlet": "Who's there? Nay, answer me: stand, and unfold yourself. Long live the king! "
    "Bernardo? He. You come most carefully upon your hour. 'Tis now struck twelve; "
    "get thee to bed, Francisco. For this relief much thanks: 'tis bitter cold, "
    "and I am sick at heart.",
    "richard_iii": "Now is the winter of our discontent made glorious summer by this sun of York; "
    "and all the clouds that lour'd upon our house in the deep bosom of the ocean buried.",
    "twelfth_night": "If music be the food of love, play on; give me excess of it, that, "
    "surfeiting, the appetite may sicken, and so die. That strain again! it had a dying fall.",
    "macbeth": "When shall we three meet again in thunder, lightning, or in rain? "
    "When the hurlyburly's done, when the battle's lost and won. That will be ere the set of sun.",
    "sonnet_18": "Shall I compare thee to a summer's day? Thou art more lovely and more temperate: "
    "rough winds do shake the darling buds of May, and summer's lease hath all too short a date.",
}


def test_matrix_equals_scikit_learn() -> None:
    """Same analyser and vocabulary: our matrix equals TfidfVectorizer's to 1e-9."""
    model = build_tfidf({name: analyze(text) for name, text in CORPUS.items()})
    vectorizer = TfidfVectorizer(analyzer=analyze)
    expected = vectorizer.fit_transform(list(CORPUS.values())).toarray()
    assert list(vectorizer.get_feature_names_out()) == list(model.vocabulary)
    np.testing.assert_allclose(np.array(model.dense()), expected, rtol=0, atol=1e-9)


def test_top_terms_and_search() -> None:
    """Top terms are heaviest first; a query finds the work that holds its words."""
    model = build_tfidf({name: analyze(text) for name, text in CORPUS.items()})
    top = model.top_terms("twelfth_night", 3)
    assert [w for _, w in top] == sorted((w for _, w in top), reverse=True)
    assert model.search(analyze("music and love"))[0][0] == "twelfth_night"
    assert model.search(analyze("zebra")) == []


def test_reports() -> None:
    """CSV has a header and a row per term; HTML holds an inline SVG chart per work."""
    model = build_tfidf({name: analyze(text) for name, text in CORPUS.items()})
    top = top_terms_by_work(model, 2)
    csv_text = render_csv(top)
    assert csv_text.splitlines()[0] == "work,rank,term,weight"
    assert len(csv_text.splitlines()) == 1 + 2 * len(CORPUS)
    page = render_html(top)
    assert page.count("<svg") == len(CORPUS)
    assert "<script" not in page
