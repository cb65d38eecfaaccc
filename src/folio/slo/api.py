"""The SLO context's public surface: the objectives, the views, and the renderers of their files.

Key contracts: ``OBJECTIVES`` is the one SLO table (the rules, the docs' table and the ops
pages read it); ``BOARDS`` the one declaration of the operational views (Grafana JSON and
the ops pages draw it); ``render_rules()`` and ``render_dashboards()`` are pure, and the
files under ``deploy/prometheus/`` must equal them (tests fail when stale).
"""

from __future__ import annotations

from folio.slo.dashboards import render_dashboard, render_dashboards
from folio.slo.objectives import OBJECTIVES, SLO_WINDOW, Objective
from folio.slo.prometheus import PrometheusReader, Sample, Series
from folio.slo.rules import BURN_RATE_ALERTS, BurnRateAlert, render_rules
from folio.slo.views import BOARDS, Board, Panel, Query, board_named

__all__ = [
    "BOARDS",
    "BURN_RATE_ALERTS",
    "OBJECTIVES",
    "SLO_WINDOW",
    "Board",
    "BurnRateAlert",
    "Objective",
    "Panel",
    "PrometheusReader",
    "Query",
    "Sample",
    "Series",
    "board_named",
    "render_dashboard",
    "render_dashboards",
    "render_rules",
]
