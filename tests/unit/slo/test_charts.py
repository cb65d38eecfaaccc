"""Panels drawn as SVG polylines: legends from labels, one shared scale, readable values."""

from __future__ import annotations

import pytest

from folio.core.errors import ServiceUnavailableError
from folio.slo.charts import HEIGHT, WIDTH, format_value, legend_of, plot
from folio.slo.prometheus import PrometheusReader, Series
from folio.slo.views import Panel, Query
from tests.conftest import free_port

pytestmark = pytest.mark.unit

PANEL = Panel("p95 by route", "s", (Query("a", "{{route}}"), Query("b", "p99 {{ job }}")))


def _coordinates(points: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (pair.split(",") for pair in points.split())]


def test_legend_fills_labels_and_blanks_missing_ones() -> None:
    """``{{route}}`` becomes the route label; an absent label is empty; an empty legend reads "value"."""
    assert (
        legend_of("{{route}} {{ method }}", {"route": "/api/v1/orders", "method": "POST"})
        == "/api/v1/orders POST"
    )
    assert legend_of("p99 {{job}}", {}) == "p99"
    assert legend_of("{{job}}", {}) == "value"


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (0.0123, "s", "12.3 ms"),
        (2.5, "s", "2.5 s"),
        (0.9995, "percentunit", "100%"),
        (0.5, "percentunit", "50%"),
        (12.0, "reqps", "12 req/s"),
        (3.0, "ops", "3/s"),
        (14.4, "short", "14.4"),
    ],
)
def test_values_read_in_their_unit(value: float, unit: str, shown: str) -> None:
    """Durations in ms or s, ratios in percent, rates per second."""
    assert format_value(value, unit) == shown  # type: ignore[arg-type]  # parametrized literal


def test_every_series_shares_one_scale_inside_the_view_box() -> None:
    """The top value touches the top, zero the bottom, start and end the edges; empty series are skipped."""
    fast = Series({"route": "/a"}, ((100.0, 0.0), (150.0, 0.1), (200.0, 0.2)))
    slow = Series({"job": "folio-gateway"}, ((100.0, 0.4), (200.0, 0.8)))
    empty = Series({"route": "/none"}, ())
    chart = plot(PANEL, [[fast, empty], [slow]], start=100.0, end=200.0)
    assert [line.legend for line in chart.lines] == ["/a", "p99 folio-gateway"]
    assert chart.y_max == "800 ms"
    assert _coordinates(chart.lines[0].points) == [
        (0.0, HEIGHT),
        (WIDTH / 2, HEIGHT - HEIGHT / 8),
        (WIDTH, HEIGHT - HEIGHT / 4),
    ]
    assert _coordinates(chart.lines[1].points) == [(0.0, HEIGHT / 2), (WIDTH, 0.0)]
    assert chart.lines[1].last == "800 ms"
    assert chart.lines[0].colour != chart.lines[1].colour


def test_a_panel_without_data_has_no_lines() -> None:
    """No series (or all-zero ones) draw nothing, or a flat line at the bottom: never a division by zero."""
    assert plot(PANEL, [[], []], start=0.0, end=60.0).lines == ()
    flat = plot(PANEL, [[Series({}, ((0.0, 0.0), (60.0, 0.0)))], []], start=0.0, end=60.0)
    assert _coordinates(flat.lines[0].points) == [(0.0, HEIGHT), (WIDTH, HEIGHT)]


def test_a_prometheus_that_does_not_answer_is_service_unavailable() -> None:
    """The reader turns a refused connection into the house's 503 error, naming where it looked."""
    reader = PrometheusReader(f"http://127.0.0.1:{free_port()}", timeout_s=2)
    with pytest.raises(ServiceUnavailableError, match="did not answer"):
        reader.instant("up")
