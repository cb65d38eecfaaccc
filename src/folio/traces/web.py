"""The trace pages: search kept traces and open one as a waterfall (``/app/traces``).

Platform operators only (``operator_required``), like the ops pages: traces show every
shop's requests, so a shop's owner gets the 403 page. A trace id
comes from a log line's ``trace_id`` or a response's ``traceparent`` header (its second
field); ``/app/traces/<trace id>`` opens it. The web app's assembly registers ``blueprint``.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from folio.traces.api import TraceQuery, get_trace, search_traces
from folio.webkit.access import operator_required
from folio.webkit.bridge import portal

__all__ = ["RANGES", "blueprint"]

blueprint = Blueprint("traces", __name__, template_folder="templates")

RANGES = {"15m": 15 * 60, "1h": 3_600, "6h": 6 * 3_600, "1d": 24 * 3_600, "all": None}
"""The time ranges the search offers (``?range=``), in seconds back from now."""


def _number(raw: str | None) -> float | None:
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


@blueprint.get("/")
@operator_required
def search() -> ResponseReturnValue:
    """Kept traces, newest first, filtered by service, operation, min duration, errors and time range."""
    wanted = request.args.get("trace_id", "").strip().lower()
    if wanted:
        return redirect(url_for("traces.show", trace_id=wanted))
    window = request.args.get("range", "1h")
    seconds = RANGES.get(window, 3_600)
    query = TraceQuery(
        service=request.args.get("service") or None,
        operation=request.args.get("operation") or None,
        min_duration_ms=_number(request.args.get("min_ms")),
        errors_only=request.args.get("errors") == "1",
        since=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds) if seconds else None,
    )
    here = portal()
    rows = here.call(search_traces, here.platform.database, query)
    return render_template("traces/search.html", rows=rows, query=query, window=window, ranges=list(RANGES))


@blueprint.get("/<trace_id>")
@operator_required
def show(trace_id: str) -> ResponseReturnValue:
    """One trace as a waterfall: each span a bar at its offset, indented below its parent."""
    here = portal()
    view = here.call(get_trace, here.platform.database, trace_id) or abort(404)
    total = max(view.trace.duration_ms, 0.001)
    return render_template("traces/trace.html", view=view, total=total)
