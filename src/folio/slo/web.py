"""The ops pages: Folio's latency, errors and SLO budget burn, drawn from Prometheus (``/app/ops/<page>``).

The same views as the Grafana dashboards (``folio.slo.views``), for where no Grafana runs:
each panel's queries go to Prometheus's ``/api/v1/query_range`` from the server, and come
back as inline SVG (``folio.slo.charts``; no JavaScript). ``/app/ops/slo`` adds the SLO
table: each objective's target, the 30-day error budget left and the burn rate over the
last hour (``slo:*`` series the rules in ``deploy/prometheus/rules/`` record; "no data"
until Prometheus evaluates them).

Platform operators only (``security.platform_operators``, whatever shop they are signed in
to; ``operator_required``): the metrics are the whole installation's, not one shop's, so a
shop's owner gets the 403 page. The business board (revenue of every shop) is not served
here, only as a Grafana dashboard for operators. A Prometheus that does not answer is a 503
page saying so. The web app's assembly
(``folio.entrypoints.web``) registers ``blueprint`` at ``/ops``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from folio.core.settings import Settings
from folio.slo.charts import HEIGHT, WIDTH, Chart, format_value, plot
from folio.slo.objectives import OBJECTIVES, SLO_WINDOW
from folio.slo.prometheus import PrometheusReader, Sample
from folio.slo.rules import BURN_RATE_ALERTS
from folio.slo.views import ERRORS, LATENCY, SLO, Board
from folio.webkit.access import operator_required

__all__ = ["PAGES", "WINDOWS", "blueprint"]

blueprint = Blueprint("ops", __name__, template_folder="templates")

PAGES: dict[str, Board] = {"slo": SLO, "latency": LATENCY, "errors": ERRORS}
"""The ops pages by path segment, in the order their tabs show."""

WINDOWS = {"1h": 3_600, "6h": 6 * 3_600, "1d": 24 * 3_600}
"""The time ranges a page may show (``?window=``), in seconds."""

_POINTS = 120
"""Points per series: enough for a smooth line, few enough for a light page."""

_FAST_BURN = BURN_RATE_ALERTS[0].burn_rate


@dataclass(frozen=True, slots=True)
class ObjectiveRow:
    """One SLO as the table shows it."""

    title: str
    sli: str
    target: str
    budget_left: str
    burn_1h: str
    burning: bool


@blueprint.get("/")
@operator_required
def index() -> ResponseReturnValue:
    """The ops pages open on the SLOs."""
    return redirect(url_for("ops.page", name="slo"))


@blueprint.get("/<name>")
@operator_required
def page(name: str) -> ResponseReturnValue:
    """One board's charts over ``?window=`` (1h, 6h or 1d); the SLO board with its table."""
    board = PAGES.get(name) or abort(404)
    window = request.args.get("window", "1h")
    if window not in WINDOWS:
        window = "1h"
    settings: Settings = current_app.extensions["folio.settings"]
    reader = PrometheusReader(settings.services.prometheus.url)
    end = dt.datetime.now(dt.UTC)
    start = end - dt.timedelta(seconds=WINDOWS[window])
    step_s = WINDOWS[window] / _POINTS
    charts: list[Chart] = [
        plot(
            panel,
            [reader.range(query.expr, start=start, end=end, step_s=step_s) for query in panel.queries],
            start=start.timestamp(),
            end=end.timestamp(),
        )
        for panel in board.panels
    ]
    return render_template(
        "slo/board.html",
        board=board,
        name=name,
        pages=PAGES,
        charts=charts,
        window=window,
        windows=list(WINDOWS),
        objectives=_objective_rows(reader) if board is SLO else [],
        slo_window=SLO_WINDOW,
        fast_burn=f"{_FAST_BURN:g}",
        width=WIDTH,
        height=HEIGHT,
    )


def _by_slo(samples: list[Sample]) -> dict[str, float]:
    return {sample.labels.get("slo", ""): sample.value for sample in samples}


def _objective_rows(reader: PrometheusReader) -> list[ObjectiveRow]:
    budget = _by_slo(reader.instant("slo:error_budget_remaining:ratio"))
    burn = _by_slo(reader.instant("slo:sli_error:ratio_rate1h / on(slo) (1 - slo:objective:ratio)"))
    return [
        ObjectiveRow(
            title=objective.title,
            sli=objective.sli,
            target=format_value(objective.target, "percentunit"),
            budget_left=format_value(budget[objective.name], "percentunit")
            if objective.name in budget
            else "no data",
            burn_1h=f"{burn[objective.name]:.2g}x" if objective.name in burn else "no data",
            burning=burn.get(objective.name, 0.0) > _FAST_BURN,
        )
        for objective in OBJECTIVES
    ]
