"""Prometheus discovers, scrapes and answers queries for registered Folio targets."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, start_http_server

from folio.core.settings import Settings
from folio.ops.services.prometheus import register_scrape_target, unregister_scrape_target

pytestmark = pytest.mark.integration

SCRAPE_WAIT_S = 30.0


@dataclass
class Exporter:
    """A /metrics endpoint served by prometheus_client, with one uniquely named counter."""

    name: str
    port: int
    counter: str


@pytest.fixture
def exporter() -> Iterator[Exporter]:
    """prometheus_client's HTTP server on an ephemeral loopback port, counter already at 3."""
    suffix = uuid.uuid4().hex[:12]
    registry = CollectorRegistry()
    counter = Counter(f"folio_test_{suffix}", "Counts nothing; proves scraping works.", registry=registry)
    counter.inc(3)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        yield Exporter(name=f"test-{suffix}", port=server.server_port, counter=f"folio_test_{suffix}_total")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _query(settings: Settings, promql: str) -> list[dict[str, object]]:
    response = httpx.get(f"{settings.services.prometheus.url}/api/v1/query", params={"query": promql})
    response.raise_for_status()
    body = response.json()
    assert body["status"] == "success"
    result: list[dict[str, object]] = body["data"]["result"]
    return result


def _wait_for(settings: Settings, promql: str) -> list[dict[str, object]]:
    deadline = time.monotonic() + SCRAPE_WAIT_S
    while time.monotonic() < deadline:
        result = _query(settings, promql)
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"{promql} returned nothing within {SCRAPE_WAIT_S:.0f}s")


def test_registered_target_is_scraped_and_queryable(
    settings: Settings, require_service: Callable[[str], None], exporter: Exporter
) -> None:
    """A target dropped in by register_scrape_target is scraped; its counter's value is queryable."""
    require_service("prometheus")
    register_scrape_target(
        settings, exporter.name, "127.0.0.1", exporter.port, labels={"suite": "integration"}
    )
    try:
        result = _wait_for(settings, exporter.counter)
    finally:
        assert unregister_scrape_target(settings, exporter.name) is True
    assert len(result) == 1
    metric = result[0]["metric"]
    assert isinstance(metric, dict)
    assert metric["job"] == "folio"
    assert metric["service"] == exporter.name
    assert metric["suite"] == "integration"
    assert metric["instance"] == f"127.0.0.1:{exporter.port}"
    value = result[0]["value"]
    assert isinstance(value, list)
    assert float(value[1]) == 3.0


def test_prometheus_scrapes_itself_and_knows_the_gateway_target(
    settings: Settings, require_service: Callable[[str], None]
) -> None:
    """The static jobs exist: Prometheus is up in its own job, the gateway is a folio-gateway target."""
    require_service("prometheus")
    assert _wait_for(settings, 'up{job="prometheus"} == 1')
    response = httpx.get(f"{settings.services.prometheus.url}/api/v1/targets", params={"state": "active"})
    response.raise_for_status()
    gateway = [t for t in response.json()["data"]["activeTargets"] if t["labels"]["job"] == "folio-gateway"]
    assert [t["scrapeUrl"] for t in gateway] == [f"{settings.gateway.url}/metrics"]
