"""Panels drawn as inline SVG: each series a polyline on one shared scale, with its legend and last value.

Pure geometry and formatting (no I/O), so the ops pages need no JavaScript (the web
app's CSP allows none) and no chart library. The y axis starts at 0 (rates, ratios and
durations are never negative) and ends at the panel's largest value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from folio.slo.prometheus import Series
from folio.slo.views import Panel, Unit

__all__ = ["HEIGHT", "PALETTE", "WIDTH", "Chart", "Line", "format_value", "legend_of", "plot"]

WIDTH, HEIGHT = 600, 140
"""The SVG viewBox of every chart, in user units (it scales with the page)."""

PALETTE = ("#2f6fdb", "#d9480f", "#2b8a3e", "#9c36b5", "#e67700", "#0b7285", "#c2255c", "#5c940d")
"""Line colours, in order of the series (wrapping round)."""

_LEGEND_LABEL = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass(frozen=True, slots=True)
class Line:
    """One series as drawn: its legend, colour, SVG ``points`` attribute and last value (formatted)."""

    legend: str
    colour: str
    points: str
    last: str


@dataclass(frozen=True, slots=True)
class Chart:
    """A panel as drawn: title, lines, and the y axis's top value (formatted)."""

    title: str
    description: str
    lines: tuple[Line, ...]
    y_max: str


def legend_of(template: str, labels: dict[str, str]) -> str:
    """Grafana's legend format: ``{{route}}`` becomes the series' ``route`` label (empty when absent)."""
    return _LEGEND_LABEL.sub(lambda match: labels.get(match.group(1), ""), template).strip() or "value"


def format_value(value: float, unit: Unit) -> str:
    """``value`` the way a person reads ``unit``: 0.0123 s is "12.3 ms", 0.999 ratio "99.9%"."""
    if unit == "s":
        return f"{value * 1000:.3g} ms" if abs(value) < 1 else f"{value:.3g} s"
    if unit == "percentunit":
        return f"{value * 100:.3g}%"
    if unit == "reqps":
        return f"{value:.3g} req/s"
    if unit == "ops":
        return f"{value:.3g}/s"
    return f"{value:.3g}"


def plot(panel: Panel, series_per_query: list[list[Series]], *, start: float, end: float) -> Chart:
    """Draw ``panel``: ``series_per_query`` holds each of its queries' range results, in order.

    ``start`` and ``end`` (unix seconds) are the x axis; every series shares one y scale.
    """
    drawn = [
        (legend_of(query.legend, series.labels), series)
        for query, results in zip(panel.queries, series_per_query, strict=True)
        for series in results
        if series.points
    ]
    top = max((value for _, series in drawn for _, value in series.points), default=0.0)
    scale = top if top > 0 else 1.0
    span = end - start if end > start else 1.0

    def xy(t: float, value: float) -> str:
        x = (t - start) / span * WIDTH
        y = HEIGHT - max(value, 0.0) / scale * HEIGHT
        return f"{x:.1f},{y:.1f}"

    lines = tuple(
        Line(
            legend=legend,
            colour=PALETTE[index % len(PALETTE)],
            points=" ".join(xy(t, value) for t, value in series.points),
            last=format_value(series.points[-1][1], panel.unit),
        )
        for index, (legend, series) in enumerate(drawn)
    )
    return Chart(panel.title, panel.description, lines, format_value(scale, panel.unit))
