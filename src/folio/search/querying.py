"""The seam between the search service and the query language: compile text, highlight hits.

The query DSL (``folio.search.dsl``) and Folio-side highlighting
(``folio.search.highlight``) are their own modules; the service reaches them only
through here, so a change in how they are called is one edit.
"""

from __future__ import annotations

from folio.search.dsl import DEFAULT_TUNING, EngineQuery, QuerySyntaxError, Tuning, compile_query, parse_query
from folio.search.highlight import highlight

__all__ = ["DEFAULT_TUNING", "EngineQuery", "QuerySyntaxError", "Tuning", "compile_text", "highlight"]


def compile_text(text: str, *, tuning: Tuning = DEFAULT_TUNING) -> EngineQuery:
    """``text`` (the search DSL) as engine parameters.

    Raises:
        QuerySyntaxError: ``text`` is not valid DSL, or asks for what the engine cannot
            express (400 ``query-syntax`` with ``position`` and ``expected``).
    """
    return compile_query(parse_query(text), tuning=tuning)
