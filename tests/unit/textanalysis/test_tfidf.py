"""Our TF-IDF equals scikit-learn's TfidfVectorizer defaults; top terms, search, reports."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

from folio.textanalysis.analysis import analyze, commonest_spellings
from folio.textanalysis.report import WorkLabel, render_csv, render_html, top_terms_by_work
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


LABELS = {
    "hamlet": WorkLabel("Hamlet", "William Shakespeare"),
    "richard_iii": WorkLabel("King Richard III", "William Shakespeare"),
    "twelfth_night": WorkLabel("Twelfth Night", "William Shakespeare", "Folio"),
    "macbeth": WorkLabel("Macbeth", "William Shakespeare"),
    "sonnet_18": WorkLabel("Sonnets <18>", "William Shakespeare"),
}


def test_csv_report_names_works_by_title_and_spells_terms_as_the_work_does() -> None:
    """CSV rows carry the title, the key, the stem and the work's own spelling of it."""
    model = build_tfidf({name: analyze(text) for name, text in CORPUS.items()})
    words = {name: commonest_spellings(text) for name, text in CORPUS.items()}
    csv_text = render_csv(top_terms_by_work(model, 2, labels=LABELS, words=words))
    lines = csv_text.splitlines()
    assert lines[0] == "work,key,rank,term,word,weight"
    assert len(lines) == 1 + 2 * len(CORPUS)
    assert {line.split(",")[0] for line in lines[1:]} == {label.title for label in LABELS.values()}
    assert "Twelfth Night,twelfth_night,1,die,die," in csv_text


def test_commonest_spelling_prefers_the_usual_case_to_capitals() -> None:
    """A stem is shown as the work spells it most, and "BERTRAM" of a stage direction loses to "Bertram"."""
    text = "[Enter BERTRAM.] BERTRAM BERTRAM. Bertram loves; the loving Bertram, O love!"
    assert commonest_spellings(text) == {
        "bertram": "Bertram",
        "enter": "Enter",
        "love": "loves",
        "o": "O",
    }


def test_html_report_is_a_readable_standalone_page() -> None:
    """Title, TF-IDF note, contents linking to a section per title, bars; nothing fetched from elsewhere."""
    model = build_tfidf({name: analyze(text) for name, text in CORPUS.items()})
    page = render_html(top_terms_by_work(model, 3, labels=LABELS), title="Five openings")
    assert "<title>Five openings</title>" in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "TF-IDF weighs a word" in page
    links = re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', page)
    sections = re.findall(r'<section id="([^"]+)"><h2>([^<]+)</h2>', page)
    assert links == sections
    assert [title for _, title in sections][-1] == "Sonnets &lt;18&gt;"
    assert "William Shakespeare · Folio edition" in page
    assert page.count('class="bar"') == 3 * len(CORPUS)
    assert "<script" not in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "@import" not in page
