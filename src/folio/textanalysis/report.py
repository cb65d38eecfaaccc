"""Top terms per work as CSV, or as a standalone HTML page a person can read.

The page has a title, a short note on what TF-IDF weighs, a table of contents, and one
section per work (its title, author and edition, and its heaviest terms as a table with a
bar per term). It carries its own CSS, no scripts, fonts or images from elsewhere, and
reflows from a phone's width up.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from folio.textanalysis.tfidf import TfidfModel

__all__ = ["TermWeight", "WorkLabel", "WorkTerms", "render_csv", "render_html", "top_terms_by_work"]


@dataclass(frozen=True, slots=True)
class WorkLabel:
    """What a report says of a work besides its terms: its title and, where known, author and edition."""

    title: str
    author: str | None = None
    edition: str | None = None


@dataclass(frozen=True, slots=True)
class TermWeight:
    """One heavy term of a work: the analysed ``term`` (a stem), its TF-IDF ``weight``.

    ``word`` is the spelling the work uses most for the term, what a reader is shown.
    """

    term: str
    word: str
    weight: float


@dataclass(frozen=True, slots=True)
class WorkTerms:
    """One work of a report: the model's name for it (``key``), its label, its heaviest terms."""

    key: str
    label: WorkLabel
    terms: tuple[TermWeight, ...]


def top_terms_by_work(
    model: TfidfModel,
    n: int,
    *,
    labels: Mapping[str, WorkLabel] | None = None,
    words: Mapping[str, Mapping[str, str]] | None = None,
) -> list[WorkTerms]:
    """The ``n`` heaviest terms of each work, in the model's document order.

    ``labels`` maps a document name to its label (a work without one is titled by its
    name); ``words`` maps a document name to, per term, the spelling to show for it (the
    term itself where none is given).
    """
    labels = labels or {}
    words = words or {}
    return [
        WorkTerms(
            key=name,
            label=labels.get(name, WorkLabel(title=name)),
            terms=tuple(
                TermWeight(term=term, word=words.get(name, {}).get(term, term), weight=weight)
                for term, weight in model.top_terms(name, n)
            ),
        )
        for name in model.names
    ]


def render_csv(works: Sequence[WorkTerms]) -> str:
    """CSV with a header: work (title), key, rank (1 = heaviest), term (stem), word, weight (6 decimals)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["work", "key", "rank", "term", "word", "weight"])
    for work in works:
        for rank, term in enumerate(work.terms, start=1):
            writer.writerow([work.label.title, work.key, rank, term.term, term.word, f"{term.weight:.6f}"])
    return buffer.getvalue()


_STYLE = """
:root{--ink:#1d2330;--muted:#5b6475;--rule:#dde1e8;--bar:#3f6fb5;--bg:#fbfbfa;--card:#fff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
 font:1.0625rem/1.55 Charter,"Bitstream Charter","Sitka Text",Cambria,Georgia,serif}
main{max-width:76rem;margin:0 auto;padding:2.5rem 1.25rem 4rem}
header,.about,nav{max-width:46rem}
.works{display:grid;grid-template-columns:repeat(auto-fill,minmax(21rem,1fr));gap:1.25rem;margin-top:2rem}
h1,h2,h3,nav,table,.meta,.back{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
h1{font-size:2rem;line-height:1.2;margin:0 0 .4rem}
h2{font-size:1.35rem;line-height:1.25;margin:0}
h3{font-size:1rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:2rem 0 .5rem}
.meta{color:var(--muted);font-size:.9rem;margin:0 0 1.5rem}
.about{border-left:3px solid var(--bar);padding:.1rem 0 .1rem 1rem;margin:1.5rem 0}
.about p{margin:.4rem 0}
nav{max-width:none}
nav ol{columns:15rem;column-gap:2rem;padding-left:1.6rem;margin:0;font-size:.95rem}
nav li{break-inside:avoid;margin:.1rem 0}
a{color:#24508f;text-underline-offset:.15em}
section{background:var(--card);border:1px solid var(--rule);border-radius:.5rem;
 padding:1.1rem 1.25rem .9rem;scroll-margin-top:1rem}
section .meta{margin:.2rem 0 .8rem}
table{width:100%;border-collapse:collapse;font-size:.92rem}
th{text-align:left;font-weight:600;color:var(--muted);border-bottom:1px solid var(--rule);padding:.2rem .4rem}
td{padding:.22rem .4rem;vertical-align:middle}
tr+tr td{border-top:1px solid #f0f1f4}
td.rank{width:2rem;color:var(--muted);text-align:right}
td.word{width:8.5rem;font-weight:600;overflow-wrap:anywhere}
td.weight{display:flex;align-items:center;gap:.5rem}
.bar{height:.8rem;min-width:2px;background:var(--bar);border-radius:2px;flex:0 0 auto}
.num{font-variant-numeric:tabular-nums;color:var(--muted);font-size:.85rem}
.back{font-size:.85rem;text-align:right;margin:.5rem 0 0}
@media (max-width:30rem){main{padding:1.5rem .75rem 3rem}h1{font-size:1.6rem}
 .works{grid-template-columns:1fr}section{padding:.9rem .8rem}}
"""

_ABOUT = """<div class="about">
<p><strong>What the weights mean.</strong> TF-IDF weighs a word by how often this work
uses it (<em>term frequency</em>) against how many works of the collection use it at all
(<em>inverse document frequency</em>). Words every work uses weigh little; words one work
leans on weigh most: its people, its places, its subject.</p>
<p>Words are compared after analysis: case and accents folded, common words such as
<em>the</em> or <em>and</em> left out, and endings stemmed, so <em>love</em>,
<em>loves</em> and <em>loving</em> count as one term, shown in the spelling the work uses
most. Each work's weights are scaled to a vector of length 1, so the bars compare a work's
terms with each other.</p>
</div>"""


def _anchor(key: str) -> str:
    """An HTML id for a work, made of its key."""
    return "work-" + (re.sub(r"[^a-z0-9]+", "-", key.casefold()).strip("-") or "untitled")


def _byline(label: WorkLabel) -> str:
    return " · ".join(
        part for part in (label.author, f"{label.edition} edition" if label.edition else None) if part
    )


def _section(work: WorkTerms) -> str:
    heaviest = max((term.weight for term in work.terms), default=0.0) or 1.0
    rows = "".join(
        f'<tr><td class="rank">{rank}</td><td class="word">{escape(term.word)}</td>'
        f'<td class="weight"><span class="bar" style="width:{70 * term.weight / heaviest:.1f}%"></span>'
        f'<span class="num">{term.weight:.3f}</span></td></tr>'
        for rank, term in enumerate(work.terms, start=1)
    )
    byline = _byline(work.label)
    return (
        f'<section id="{_anchor(work.key)}"><h2>{escape(work.label.title)}</h2>'
        f"{f'<p class=meta>{escape(byline)}</p>' if byline else ''}"
        f'<table><thead><tr><th scope="col">#</th><th scope="col">Word</th>'
        f'<th scope="col">TF-IDF weight</th></tr></thead><tbody>{rows}</tbody></table>'
        f'<p class="back"><a href="#contents">Back to contents</a></p></section>'
    )


def render_html(works: Sequence[WorkTerms], *, title: str = "Top terms per work", subtitle: str = "") -> str:
    """A standalone HTML page (no scripts, no outside assets), laid out as the module docstring says."""
    contents = "".join(
        f'<li><a href="#{_anchor(work.key)}">{escape(work.label.title)}</a></li>' for work in works
    )
    per_work = max((len(work.terms) for work in works), default=0)
    meta = subtitle or f"{len(works)} works, the {per_work} heaviest terms of each"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>"
        f'<header><h1>{escape(title)}</h1><p class="meta">{escape(meta)}</p></header>{_ABOUT}'
        f'<nav aria-labelledby="contents"><h3 id="contents">Contents</h3><ol>{contents}</ol></nav>'
        f'<div class="works">{"".join(_section(work) for work in works)}</div></main></body></html>\n'
    )
