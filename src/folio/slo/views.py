"""The operational views, declared once: Grafana renders them from JSON, Folio's ops pages from Prometheus.

A ``Board`` is a titled list of ``Panel``s; a panel plots the series of its ``Query``s
(PromQL) over time. ``folio.slo.dashboards`` writes each board as a provisionable Grafana
dashboard (``deploy/prometheus/dashboards/``); ``folio.slo.web`` draws the same panels
from Prometheus's ``/api/v1/query_range`` on ``/app/ops/<board>``. One declaration, so
the two never drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["BOARDS", "Board", "Panel", "Query", "Unit", "board_named"]

Unit = Literal["s", "reqps", "percentunit", "short", "ops"]
"""Grafana's unit ids, which the ops pages format too: seconds, requests/s, 0-1 ratio, plain, per second."""

_API = 'job="folio-gateway",route!~"/healthz|/readyz|/metrics"'
_BURN = "{window} / on(slo) (1 - slo:objective:ratio)"


@dataclass(frozen=True, slots=True)
class Query:
    """One PromQL expression; ``legend`` names each of its series (Grafana's ``{{label}}`` syntax)."""

    expr: str
    legend: str


@dataclass(frozen=True, slots=True)
class Panel:
    """A time-series chart of ``queries``, in ``unit``."""

    title: str
    unit: Unit
    queries: tuple[Query, ...]
    description: str = ""


@dataclass(frozen=True, slots=True)
class Board:
    """A dashboard: ``uid`` is its Grafana uid and its ops page's path segment."""

    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]


def _quantile(q: float, histogram: str, selector: str, by: str) -> str:
    return f"histogram_quantile({q:g}, sum by ({by}, le) (rate({histogram}_bucket{{{selector}}}[5m])))"


LATENCY = Board(
    uid="folio-latency",
    title="Folio latency",
    description="How long Folio takes: the API by route, gRPC by method, the event pipeline by stage.",
    panels=(
        Panel(
            "API p95 by route",
            "s",
            (Query(_quantile(0.95, "folio_http_request_duration_seconds", _API, "route"), "{{route}}"),),
        ),
        Panel(
            "API p50 / p99",
            "s",
            (
                Query(_quantile(0.5, "folio_http_request_duration_seconds", _API, "job"), "p50"),
                Query(_quantile(0.99, "folio_http_request_duration_seconds", _API, "job"), "p99"),
            ),
        ),
        Panel(
            "gRPC server p95 by method",
            "s",
            (
                Query(
                    _quantile(0.95, "folio_grpc_server_handling_seconds", "", "grpc_method"),
                    "{{grpc_method}}",
                ),
            ),
        ),
        Panel(
            "Event pipeline: event age at each stage (p95)",
            "s",
            (Query(_quantile(0.95, "folio_streaming_event_age_seconds", "", "stage"), "{{stage}}"),),
            "From an event's occurred-at to the stage handling it; the sink's is the freshness SLO.",
        ),
    ),
)

ERRORS = Board(
    uid="folio-errors",
    title="Folio errors",
    description="What fails: 5xx answers by route, gRPC calls by code, records dead-lettered.",
    panels=(
        Panel(
            "API requests by status class",
            "reqps",
            (
                Query(
                    f"sum by (class) (label_replace(rate(folio_http_requests_total{{{_API}}}[5m]),"
                    ' "class", "${1}xx", "status", "(.).."))',
                    "{{class}}",
                ),
            ),
        ),
        Panel(
            "API 5xx ratio by route",
            "percentunit",
            (
                Query(
                    f'sum by (route) (rate(folio_http_requests_total{{{_API},status=~"5.."}}[5m]))'
                    f" / sum by (route) (rate(folio_http_requests_total{{{_API}}}[5m]))",
                    "{{route}}",
                ),
            ),
        ),
        Panel(
            "gRPC server calls not OK, by method and code",
            "reqps",
            (
                Query(
                    "sum by (grpc_method, grpc_code)"
                    ' (rate(folio_grpc_server_handled_total{grpc_code!="OK"}[5m]))',
                    "{{grpc_method}} {{grpc_code}}",
                ),
            ),
        ),
        Panel(
            "Event pipeline records by outcome",
            "ops",
            (
                Query(
                    "sum by (stage, outcome) (rate(folio_streaming_records_total[5m]))",
                    "{{stage}} {{outcome}}",
                ),
            ),
        ),
    ),
)

SLO = Board(
    uid="folio-slo",
    title="Folio SLOs",
    description="Each SLO's error budget left over 30 days and how fast it burns (docs/slo.md).",
    panels=(
        Panel(
            "Error budget remaining (30 days)",
            "percentunit",
            (Query("slo:error_budget_remaining:ratio", "{{slo}}"),),
            "1 is untouched, 0 spent, below 0 overspent.",
        ),
        Panel(
            "Burn rate over 1 h (page above 14.4)",
            "short",
            (Query(_BURN.format(window="slo:sli_error:ratio_rate1h"), "{{slo}}"),),
        ),
        Panel(
            "Burn rate over 6 h (page above 6)",
            "short",
            (Query(_BURN.format(window="slo:sli_error:ratio_rate6h"), "{{slo}}"),),
        ),
        Panel(
            "Error ratio over 5 m",
            "percentunit",
            (Query("slo:sli_error:ratio_rate5m", "{{slo}}"),),
        ),
    ),
)

BUSINESS = Board(
    uid="folio-business",
    title="Folio business",
    description="What the shops sell: orders placed and paid, revenue by currency, search latency.",
    panels=(
        Panel(
            "Orders placed and paid per minute",
            "short",
            (
                Query("sum by (currency) (rate(folio_orders_placed_total[5m])) * 60", "placed {{currency}}"),
                Query("sum by (currency) (rate(folio_orders_paid_total[5m])) * 60", "paid {{currency}}"),
            ),
        ),
        Panel(
            "Revenue per hour, by currency (minor units)",
            "short",
            (
                Query(
                    "sum by (currency) (increase(folio_orders_revenue_minor_units_total[1h]))", "{{currency}}"
                ),
            ),
        ),
        Panel(
            "Search p95 by endpoint",
            "s",
            (
                Query(
                    _quantile(
                        0.95,
                        "folio_http_request_duration_seconds",
                        'job="folio-gateway",route=~"/api/v1/search.*"',
                        "route",
                    ),
                    "{{route}}",
                ),
            ),
        ),
    ),
)

BOARDS: tuple[Board, ...] = (LATENCY, ERRORS, SLO, BUSINESS)
"""Every board, in the order the ops pages list them."""


def board_named(uid: str) -> Board | None:
    """The board whose uid is ``uid``, if any."""
    return next((board for board in BOARDS if board.uid == uid), None)
