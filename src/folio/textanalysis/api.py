"""Text analysis's public surface: the one analysis chain every feature shares, TF-IDF and its report.

Key contracts: ``analyze`` is the chain search, the PDF index and TF-IDF all use
(NFKC, casefold, ASCII folding, stopwords, Snowball stems), so a term means the same
everywhere; ``analyze_tokens`` keeps character offsets and positions (stopwords count)
for highlighting and phrases; ``build_tfidf`` equals scikit-learn's TfidfVectorizer
defaults;
``top_terms_by_work`` with ``render_csv``/``render_html`` report each work's heaviest terms
under its title, spelt as the work spells them (``commonest_spellings``).
"""

from __future__ import annotations

from folio.textanalysis.analysis import analyze, analyze_tokens, commonest_spellings, normalize_word
from folio.textanalysis.report import (
    TermWeight,
    WorkLabel,
    WorkTerms,
    render_csv,
    render_html,
    top_terms_by_work,
)
from folio.textanalysis.tfidf import TfidfModel, build_tfidf

__all__ = [
    "TermWeight",
    "TfidfModel",
    "WorkLabel",
    "WorkTerms",
    "analyze",
    "analyze_tokens",
    "build_tfidf",
    "commonest_spellings",
    "normalize_word",
    "render_csv",
    "render_html",
    "top_terms_by_work",
]
