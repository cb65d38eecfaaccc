"""Top terms per work as CSV, or as a readable HTML page with one inline SVG bar chart per work."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from html import escape

from folio.textanalysis.tfidf import TfidfModel

__all__ = ["TopTerms", "render_csv", "render_html", "top_terms_by_work"]

TopTerms = Mapping[str, Sequence[tuple[str, float]]]

_BAR_HEIGHT = 18
_LABEL_WIDTH = 140
_CHART_WIDTH = 420


def top_terms_by_work(model: TfidfModel, n: int) -> dict[str, list[tuple[str, float]]]:
    """The ``n`` heaviest terms of each work, in the model's document order."""
    return {name: model.top_terms(name, n) for name in model.names}


def render_csv(top: TopTerms) -> str:
    """CSV with a header: work, rank (1 = heaviest), term, weight (TF-IDF, 6 decimals)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["work", "rank", "term", "weight"])
    for work, terms in top.items():
        for rank, (term, weight) in enumerate(terms, start=1):
            writer.writerow([work, rank, term, f"{weight:.6f}"])
    return buffer.getvalue()


def _bar_chart(terms: Sequence[tuple[str, float]]) -> str:
    """An SVG horizontal bar chart, bars scaled to the work's heaviest term."""
    heaviest = max((weight for _, weight in terms), default=0.0) or 1.0
    height = _BAR_HEIGHT * len(terms) + 4
    rows = []
    for index, (term, weight) in enumerate(terms):
        y = index * _BAR_HEIGHT + 2
        width = max(1.0, (_CHART_WIDTH - _LABEL_WIDTH - 60) * weight / heaviest)
        rows.append(
            f'<text x="{_LABEL_WIDTH - 6}" y="{y + 13}" text-anchor="end">{escape(term)}</text>'
            f'<rect x="{_LABEL_WIDTH}" y="{y + 2}" width="{width:.1f}" height="{_BAR_HEIGHT - 4}" />'
            f'<text x="{_LABEL_WIDTH + width + 4:.1f}" y="{y + 13}">{weight:.3f}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_CHART_WIDTH}" height="{height}" '
        f'role="img" aria-label="top terms">{"".join(rows)}</svg>'
    )


def render_html(top: TopTerms, *, title: str = "Top terms per work") -> str:
    """A standalone HTML page (no scripts): per work, a heading, a bar chart and a table."""
    sections = []
    for work, terms in top.items():
        table_rows = "".join(
            f"<tr><td>{rank}</td><td>{escape(term)}</td><td>{weight:.4f}</td></tr>"
            for rank, (term, weight) in enumerate(terms, start=1)
        )
        sections.append(
            f"<section><h2>{escape(work)}</h2>{_bar_chart(terms)}"
            f"<table><thead><tr><th>#</th><th>term</th><th>TF-IDF</th></tr></thead>"
            f"<tbody>{table_rows}</tbody></table></section>"
        )
    style = (
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}"
        "section{margin-bottom:2rem}svg text{font-size:12px}svg rect{fill:#4a6fa5}"
        "table{border-collapse:collapse;font-size:.9rem}td,th{padding:.1rem .6rem;text-align:left}"
    )
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{style}</style></head><body><h1>{escape(title)}</h1>{''.join(sections)}</body></html>\n"
    )
