"""Folio-side highlighting: mark the words of a text whose analysed form a query asked for.

Typesense 0.24 highlights the ``*_stem`` fields it searched, which hold stems (``run``),
not the words a reader sees (``Running``). So Folio highlights the display text itself,
running it through the same analysis chain as the index (``folio.textanalysis``): the
word ``Running`` is marked for the query term ``run``, ``Café`` for ``cafe``, and a
stopword is never marked. The result is HTML-escaped text with ``<mark>`` elements, safe
to insert into a page as is.
"""

from __future__ import annotations

import html

from folio.textanalysis.api import analyze_tokens

__all__ = ["highlight", "matched_spans"]


def matched_spans(text: str, terms: frozenset[str]) -> list[tuple[int, int]]:
    """The ``(start, end)`` offsets of the words in ``text`` whose analysed term is in ``terms``.

    Spans are in text order and never overlap (a word that analyses into several terms
    counts once).
    """
    if not terms:
        return []
    spans: list[tuple[int, int]] = []
    for token in analyze_tokens(text):
        if token.term in terms and (not spans or spans[-1] != (token.start, token.end)):
            spans.append((token.start, token.end))
    return spans


def highlight(text: str, terms: frozenset[str]) -> str:
    """``text`` HTML-escaped, with ``<mark>...</mark>`` around each word whose analysed form is in ``terms``.

    ``terms`` are analysed terms, as ``EngineQuery.highlight_terms`` gives them.
    """
    pieces: list[str] = []
    cursor = 0
    for start, end in matched_spans(text, terms):
        pieces.append(html.escape(text[cursor:start]))
        pieces.append(f"<mark>{html.escape(text[start:end])}</mark>")
        cursor = end
    pieces.append(html.escape(text[cursor:]))
    return "".join(pieces)
