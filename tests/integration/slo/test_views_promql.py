"""Every PromQL expression of the views and the SLO table parses on the real Prometheus."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from folio.core.errors import ServiceUnavailableError
from folio.core.settings import Settings
from folio.slo.api import BOARDS, OBJECTIVES, PrometheusReader

pytestmark = pytest.mark.integration


@pytest.fixture
def reader(settings: Settings, require_service: Callable[[str], None]) -> PrometheusReader:
    """A reader of the harness's running Prometheus."""
    require_service("prometheus")
    return PrometheusReader(settings.services.prometheus.url)


def test_every_view_expression_is_valid_promql(reader: PrometheusReader) -> None:
    """Prometheus accepts every dashboard query and the SLO table's (a parse error would raise)."""
    expressions = [query.expr for board in BOARDS for panel in board.panels for query in panel.queries]
    expressions += [objective.error_ratio("5m") for objective in OBJECTIVES]
    for expr in expressions:
        assert isinstance(reader.instant(expr), list), expr


def test_a_broken_expression_is_reported_not_drawn(reader: PrometheusReader) -> None:
    """What the validity test relies on: Prometheus's parse error reaches the caller as an error."""
    with pytest.raises(ServiceUnavailableError, match="bad_data"):
        reader.instant("sum(rate(folio_http_requests_total[5m])")
