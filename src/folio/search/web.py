"""Search's web page: the shop's listings or the whole catalogue, with facets, highlights and pages.

Any signed-in member may search (customers too: it is the shop's stock and the shared
catalogue, not its internal board). The query box takes the search DSL
(``folio.search``): words, "phrases", ``author:``, ``year:>1990``, ``price:<20`` ...
Every rule (which shop's collection, the deep-paging cap, what the DSL accepts) is the
search service's; this module only turns its results and errors into a page:

- hits show the service's highlights, which ``folio.search.highlight`` has already
  HTML-escaped around its ``<mark>`` elements; they are the only HTML marked safe here,
  never anything the member typed;
- each facet value is a link that adds its clause to the query (``subject:"Fiction"``,
  ``year:1999``, ``price:>=5 price:<10``), or removes it again when it is already there;
- numbered pages reach ``MAX_RESULT_WINDOW`` results deep; past that a "more" link
  walks every hit in the index's stable order with keyset paging (``after``);
- a misspelt query (a word no work contains) shows the spelling-corrected results,
  "Showing results for *hamlet*; search instead for *hamlt*", the latter a link that
  searches exactly what was typed (``correct=false``, kept while paging);
- a DSL syntax error is shown next to the box with its position, keeping the query
  (400); a search engine that is not there (lite mode) or not answering is a page that
  says so (503).

No JavaScript (the CSP allows none): title suggestions for a plain-words query fill a
``<datalist>`` on the server. The web app's assembly (``folio.entrypoints.web``)
registers ``blueprint`` at ``/search``; the template is this package's
``templates/search/index.html``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from flask import Blueprint, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape

from folio.catalog import api as catalog
from folio.core.platform import Platform
from folio.core.security import Principal
from folio.search import api as search
from folio.search.indexes import PRICE_BAND_RANGES, PriceBand
from folio.webkit.access import login_required, signed_in
from folio.webkit.bridge import portal
from folio.webkit.paging import page_links

__all__ = [
    "MAX_QUERY_LENGTH",
    "PER_PAGE",
    "SCOPES",
    "blueprint",
    "facet_clause",
    "toggle_clause",
]

blueprint = Blueprint("search", __name__, template_folder="templates")

PER_PAGE = 20
"""Hits per page (numbered pages then reach ``MAX_RESULT_WINDOW // PER_PAGE`` pages deep)."""

MAX_QUERY_LENGTH = 500
"""Longest query the box accepts (the REST API's limit too)."""

SCOPES: dict[str, str] = {"shop": "This shop", "works": "All works"}
"""The tabs: the shop's listings (default) and the shared catalogue of works."""

FACET_LABELS: dict[str, str] = {
    "subject": "Subject",
    "year": "Year",
    "publisher": "Publisher",
    "price_band": "Price",
    "condition": "Condition",
}
"""Facet headings, in the order the page shows them."""


def _band_clause(band: PriceBand) -> str:
    """The DSL that keeps the prices in ``band`` (``price:>=5 price:<10``; an open end has no clause)."""
    clauses = [f"price:>={band.lower}"] if band.lower else []
    if band.upper is not None:
        clauses.append(f"price:<{band.upper}")
    return " ".join(clauses)


def _band_label(band: PriceBand) -> str:
    """How the facet names ``band``: "Under 5", "5 to 10", "50 and more"."""
    if not band.lower:
        return f"Under {band.upper}"
    if band.upper is None:
        return f"{band.lower} and more"
    return f"{band.lower} to {band.upper}"


PRICE_BAND_CLAUSES: dict[str, tuple[str, str]] = {
    band.name: (_band_clause(band), _band_label(band)) for band in PRICE_BAND_RANGES
}
"""Each ``price_band`` facet value (search's bands, upper bound excluded) as DSL and as a label."""

CONDITION_ORDER = tuple(condition.value for condition in catalog.Condition)
"""Conditions best first (``folio.catalog``'s order), as the condition facet lists them."""

_FIXED_ORDER: dict[str, tuple[str, ...]] = {
    "price_band": tuple(PRICE_BAND_CLAUSES),
    "condition": CONDITION_ORDER,
}
"""Facets whose values have a natural order; the others keep the engine's (most hits first)."""

_PLAIN_WORDS = re.compile(r"^[\w\s'.,-]+$")


# --- the DSL clauses facet links add ----------------------------------------------------------


def _phrase(value: str) -> str:
    """``value`` as a DSL phrase: quoted, with backslashes and double quotes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def facet_clause(facet: str, value: str) -> str | None:
    """The DSL clause that keeps only hits with ``value`` in ``facet``; None for a value it cannot express."""
    if facet in {"subject", "publisher"}:
        return f"{facet}:{_phrase(value)}"
    if facet == "year" and value.isdigit():
        return f"year:{value}"
    if facet == "condition" and re.fullmatch(r"[a-z_]+", value):
        return f"condition:{value}"
    if facet == "price_band" and value in PRICE_BAND_CLAUSES:
        return PRICE_BAND_CLAUSES[value][0]
    return None


def _clause_pattern(clause: str) -> re.Pattern[str]:
    # Whole clauses only: ``price:<5`` must not be found inside ``price:<50``.
    return re.compile(r"(?<!\S)" + re.escape(clause) + r"(?!\S)")


def toggle_clause(query: str, clause: str) -> tuple[str, bool]:
    """``(new query, was present)``: ``query`` with ``clause`` added, or removed when it is already there."""
    pattern = _clause_pattern(clause)
    if pattern.search(query):
        return " ".join(pattern.sub(" ", query).split()), True
    return f"{query.strip()} {clause}".strip(), False


def _facet_label(facet: str, value: str) -> str:
    if facet == "price_band" and value in PRICE_BAND_CLAUSES:
        return PRICE_BAND_CLAUSES[value][1]
    if facet == "condition":
        return value.replace("_", " ").capitalize()
    return value


# --- what the page shows ------------------------------------------------------------------------


@dataclass(frozen=True)
class FacetLink:
    """One facet value: its label, count, the link that toggles it, and whether it is applied."""

    label: str
    count: int
    url: str
    active: bool


@dataclass(frozen=True)
class FacetGroup:
    """One facet field's values."""

    name: str
    label: str
    links: list[FacetLink]


@dataclass(frozen=True)
class HitView:
    """One hit as the page shows it; ``title`` and ``authors`` are safe HTML (escaped, with marks)."""

    title: Markup
    authors: Markup
    hit: search.SearchHit
    price: str | None
    condition: str | None


@dataclass(frozen=True)
class SyntaxProblem:
    """A DSL error: the service's detail, what was expected, and the query split at the error."""

    detail: str
    expected: str
    position: int
    before: str
    at: str
    after: str


@dataclass(frozen=True)
class Found:
    """What one search produced: the results and, for plain words, title suggestions."""

    results: search.SearchResults
    suggestions: list[search.Suggestion] = field(default_factory=list)


@dataclass(frozen=True)
class SearchRequest:
    """The page's query-string parameters, checked."""

    query: str
    scope: str
    page: int
    after: int | None
    correct: bool = True
    """False after "search instead for": the query is searched exactly as typed."""


def _read_args(args: Mapping[str, str]) -> tuple[SearchRequest, str | None]:
    """The request's parameters and, when the query is too long, the message to show at the box.

    A scope, page or ``after`` it cannot use is flashed as a warning and left at its default.
    """
    query = args.get("q", "").strip()
    scope = args.get("scope", "shop")
    if scope not in SCOPES:
        flash(f"There is no search scope {scope!r}; searching this shop.", "warning")
        scope = "shop"
    page = _positive(args.get("page"), name="page", minimum=1) or 1
    after = _positive(args.get("after"), name="after", minimum=0)
    problem = None
    if len(query) > MAX_QUERY_LENGTH:
        problem = f"The query is {len(query)} characters long; the most is {MAX_QUERY_LENGTH}."
    correct = args.get("correct", "true") != "false"
    return SearchRequest(query=query, scope=scope, page=page, after=after, correct=correct), problem


MAX_RANK = 2**63 - 1
"""The largest ``after`` (``rank_id`` is an int64)."""


def _positive(text: str | None, *, name: str, minimum: int) -> int | None:
    """``text`` as a whole number from ``minimum`` to ``MAX_RANK``; None (and a warning) otherwise."""
    if not text:
        return None
    if text.isascii() and text.isdigit() and minimum <= int(text) <= MAX_RANK:
        return int(text)
    flash(f"The {name} {text!r} was not understood and was ignored.", "warning")
    return None


async def _find(platform: Platform, *, principal: Principal, wanted: SearchRequest) -> Found:
    """Run the search (and the suggestions) on the gateway's loop: one portal hop, the platform's client."""
    backend = search.wired_search(platform)
    if wanted.scope == "works":
        results = await search.search_works(
            backend,
            shop_id=principal.tenant_id,
            query=wanted.query,
            page=wanted.page,
            per_page=PER_PAGE,
            after=wanted.after,
            correct=wanted.correct,
        )
    else:
        results = await search.search_listings(
            backend,
            principal=principal,
            query=wanted.query,
            page=wanted.page,
            per_page=PER_PAGE,
            after=wanted.after,
            correct=wanted.correct,
        )
    suggestions: list[search.Suggestion] = []
    if wanted.query and _PLAIN_WORDS.match(wanted.query):
        # Only plain words are a title prefix; DSL fields and quotes would not complete.
        suggestions = await search.suggest_titles(
            backend, prefix=wanted.query, principal=principal if wanted.scope == "shop" else None
        )
    return Found(results=results, suggestions=suggestions)


@blueprint.get("")
@login_required
def index() -> ResponseReturnValue:
    """The search page: query box, scope tabs, results with highlights, facets and pages."""
    principal = signed_in()
    wanted, too_long = _read_args(request.args)
    context: dict[str, Any] = {
        "query": wanted.query,
        "scope": wanted.scope,
        "scopes": {name: _url(wanted, scope=name, q=wanted.query) for name in SCOPES},
        "scope_labels": SCOPES,
        "max_query_length": MAX_QUERY_LENGTH,
        "phrase": _phrase,
    }
    if too_long is not None:
        return _render(context, HTTPStatus.BAD_REQUEST, query_error=too_long)
    here = portal()
    try:
        found = here.call(_find, here.platform, principal=principal, wanted=wanted)
    except search.QuerySyntaxError as exc:
        return _render(context, HTTPStatus.BAD_REQUEST, syntax=_syntax_problem(wanted.query, exc))
    except search.DeepPagingError as exc:
        return _render(
            context,
            HTTPStatus.BAD_REQUEST,
            query_error=exc.detail or exc.title,
            more_url=_url(wanted, after=0),
        )
    except search.SearchUnavailableError as exc:
        return _render(
            context,
            HTTPStatus.SERVICE_UNAVAILABLE,
            unavailable=exc.detail or exc.title,
            lite_mode=bool(exc.extra.get("lite_mode")),
        )
    results = found.results
    reachable = min(math.ceil(results.found / PER_PAGE), search.MAX_RESULT_WINDOW // PER_PAGE)
    keyset = wanted.after is not None
    pages = [] if keyset else page_links(wanted.page, reachable)
    return _render(
        context,
        HTTPStatus.OK,
        results=results,
        hits=[_hit_view(hit) for hit in results.hits],
        facets=_facet_groups(wanted, results),
        suggestions=found.suggestions,
        keyset=keyset,
        pages=pages,
        page_urls={number: _url(wanted, page=number) for number in pages if number is not None},
        current_page=wanted.page,
        prev_url=_url(wanted, page=wanted.page - 1) if pages and wanted.page > 1 else None,
        next_page_url=_url(wanted, page=wanted.page + 1) if pages and wanted.page < reachable else None,
        beyond_pages=not keyset and results.found > reachable * PER_PAGE,
        more_url=_url(wanted, after=0),
        next_url=_url(wanted, after=results.next_after) if results.next_after is not None else None,
        first_url=_url(wanted),
        window=search.MAX_RESULT_WINDOW,
        corrected_url=_url(wanted, q=results.corrected_query, page=None, after=None)
        if results.corrected_query
        else None,
        as_typed_url=_url(wanted, correct="false", page=None, after=None),
    )


def _render(context: dict[str, Any], status: HTTPStatus, **extra: Any) -> tuple[str, int]:
    return render_template("search/index.html", **context, **extra), status.value


def _url(wanted: SearchRequest, **changes: Any) -> str:
    """This page's URL for ``wanted`` with ``changes`` (a new query or scope starts at page 1)."""
    args: dict[str, Any] = {
        "q": wanted.query,
        "scope": wanted.scope,
        "correct": None if wanted.correct else "false",
    }
    args.update(changes)
    cleaned = {key: value for key, value in args.items() if value not in (None, "")}
    if cleaned.get("scope") == "shop":
        del cleaned["scope"]
    if cleaned.get("page") == 1:
        del cleaned["page"]
    return url_for("search.index", **cleaned)


def _escaped_by_search(html: str) -> Markup:
    """Service-made highlight HTML as safe markup.

    Only for ``SearchHit.highlights``: ``folio.search.highlight`` HTML-escapes the whole
    text and adds nothing but ``<mark>`` elements, so the string is safe as it is.
    Never call this on anything a member typed.
    """
    return Markup(html)  # noqa: S704 - escaped by folio.search.highlight (see the docstring)


def _hit_view(hit: search.SearchHit) -> HitView:
    # Without highlights (no free words in the query) the plain fields are escaped here.
    title = hit.highlights.get("title")
    authors = hit.highlights.get("authors")
    return HitView(
        title=_escaped_by_search(title) if title is not None else escape(hit.title),
        authors=_escaped_by_search(authors) if authors is not None else escape("; ".join(hit.authors)),
        hit=hit,
        price=_price(hit.price_cents, hit.currency),
        condition=_facet_label("condition", hit.condition) if hit.condition else None,
    )


def _price(cents: int | None, currency: str | None) -> str | None:
    if cents is None:
        return None
    major, minor = divmod(cents, 100)
    return f"{major}.{minor:02d} {currency or ''}".strip()


def _facet_groups(wanted: SearchRequest, results: search.SearchResults) -> list[FacetGroup]:
    by_name = {facet.field: facet for facet in results.facets}
    groups: list[FacetGroup] = []
    for name, label in FACET_LABELS.items():
        facet = by_name.get(name)
        if facet is None or not facet.counts:
            continue
        counts = facet.counts
        if (order := _FIXED_ORDER.get(name)) is not None:
            counts = sorted(counts, key=lambda c: order.index(c.value) if c.value in order else len(order))
        links = []
        for count in counts:
            clause = facet_clause(name, count.value)
            if clause is None:
                continue
            query, active = toggle_clause(wanted.query, clause)
            links.append(
                FacetLink(
                    label=_facet_label(name, count.value),
                    count=count.count,
                    url=_url(wanted, q=query),
                    active=active,
                )
            )
        if links:
            groups.append(FacetGroup(name=name, label=label, links=links))
    return groups


def _syntax_problem(query: str, exc: search.QuerySyntaxError) -> SyntaxProblem:
    position = max(0, min(exc.position, len(query)))
    return SyntaxProblem(
        detail=exc.detail or exc.title,
        expected=exc.expected,
        position=position,
        before=query[:position],
        at=query[position : position + 1],
        after=query[position + 1 :],
    )
