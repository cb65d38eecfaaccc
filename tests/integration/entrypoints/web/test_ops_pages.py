"""The ops pages (/app/ops) over the real Prometheus: the SLO table, scraped data drawn, operators only.

Data comes from a prometheus_client exporter registered with the harness's Prometheus
(file discovery, as the suite's Prometheus test does), with a stage name of the test's own;
the test waits for two scrapes, so a rate has points.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from prometheus_client import CollectorRegistry, Counter, start_http_server

from folio.core.settings import Settings
from folio.ops.services.prometheus import register_scrape_target, unregister_scrape_target
from folio.slo.api import OBJECTIVES, PrometheusReader
from folio.slo.web import PAGES
from tests.integration.entrypoints.web.conftest import Browser, join, register_shop

pytestmark = pytest.mark.integration

SCRAPE_WAIT_S = 30.0
BrowserFactory = Callable[[], Browser]


@pytest.fixture
def reader(settings: Settings, require_service: Callable[[str], None]) -> PrometheusReader:
    """A reader of the harness's running Prometheus."""
    require_service("prometheus")
    return PrometheusReader(settings.services.prometheus.url)


@pytest.fixture
def scraped_stage(settings: Settings, reader: PrometheusReader) -> Iterator[str]:
    """A pipeline stage of the test's own whose records counter Prometheus has scraped twice."""
    stage = f"test-{uuid.uuid4().hex[:10]}"
    registry = CollectorRegistry()
    records = Counter(
        "folio_streaming_records_total", "Test records.", ["stage", "topic", "outcome"], registry=registry
    )
    records.labels(stage, "folio.test", "ok").inc(5)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    register_scrape_target(settings, stage, "127.0.0.1", server.server_port)
    try:
        deadline = time.monotonic() + SCRAPE_WAIT_S
        query = f'count_over_time(folio_streaming_records_total{{stage="{stage}"}}[5m]) >= 2'
        while not reader.instant(query):
            assert time.monotonic() < deadline, (
                f"Prometheus did not scrape {stage} twice in {SCRAPE_WAIT_S:.0f}s"
            )
            records.labels(stage, "folio.test", "ok").inc()
            time.sleep(0.5)
        yield stage
    finally:
        unregister_scrape_target(settings, stage)
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


OPS_LINK = '<a href="/app/ops/">Ops</a>'


async def test_an_operator_sees_the_slo_table_and_charts(
    browser: BrowserFactory, reader: PrometheusReader, operator_email: str
) -> None:
    """/app/ops/slo lists every objective with its target, and a chart section per panel."""
    operator = browser()
    await register_shop(operator, email=operator_email)
    page = await operator.get("/app/ops/")
    assert page.status_code == 200
    assert page.url.path == "/app/ops/slo"
    assert page.text.count('<tr class="objective') == len(OBJECTIVES)
    assert "Checkout latency" in page.text
    assert "99.9%" in page.text
    assert page.text.count('class="card chart"') == len(PAGES["slo"].panels)
    assert OPS_LINK in page.text


async def test_errors_page_draws_scraped_series(
    browser: BrowserFactory, scraped_stage: str, operator_email: str
) -> None:
    """A stage Prometheus scraped shows on the errors page as a line with its legend and last value."""
    operator = browser()
    await register_shop(operator, email=operator_email)
    page = await operator.get("/app/ops/errors", window="1h")
    assert page.status_code == 200
    assert f'<span class="series">{scraped_stage} ok</span>' in page.text
    assert "<polyline" in page.text


async def test_managers_who_are_not_operators_are_refused(
    browser: BrowserFactory, operator_email: str
) -> None:
    """A shop's owner (not an operator) and its staff get 403 and no link; anonymous must log in.

    An unknown page is 404, for the operator only: nobody else learns which pages exist.
    """
    owner, staff, anonymous, operator = browser(), browser(), browser(), browser()
    shop = await register_shop(owner)
    await join(owner, staff, shop, role="staff")
    assert (await owner.get("/app/ops/slo")).status_code == 403
    assert OPS_LINK not in (await owner.get("/app/members")).text
    assert (await staff.get("/app/ops/latency")).status_code == 403
    assert (await owner.get("/app/ops/business")).status_code == 403
    assert (await anonymous.get("/app/ops/slo")).url.path == "/app/login"
    await register_shop(operator, email=operator_email)
    assert (await operator.get("/app/ops/business")).status_code == 404
