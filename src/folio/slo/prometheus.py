"""Reading Prometheus's HTTP API: instant and range queries, answered as plain series.

Synchronous on purpose: the ops pages run in the web app's WSGI threads, and each page
asks a handful of small queries. A Prometheus that does not answer, or answers with an
error, is ``ServiceUnavailableError`` (the page says so with a 503); an expression it
cannot parse is a bug in the views, so it is that error too, naming the expression.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import httpx

from folio.core.errors import ServiceUnavailableError

__all__ = ["PrometheusReader", "Sample", "Series"]

QUERY_TIMEOUT_S = 5.0
"""How long one query may take before the page gives up on Prometheus."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One instant-query result: a series' labels and its current value."""

    labels: dict[str, str]
    value: float


@dataclass(frozen=True, slots=True)
class Series:
    """One range-query result: a series' labels and its ``(unix time, value)`` points, NaNs dropped."""

    labels: dict[str, str]
    points: tuple[tuple[float, float], ...]


class PrometheusReader:
    """Queries one Prometheus at ``base_url`` (e.g. ``settings.services.prometheus.url``)."""

    def __init__(self, base_url: str, *, timeout_s: float = QUERY_TIMEOUT_S) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def instant(self, expr: str) -> list[Sample]:
        """The value of every series ``expr`` yields now."""
        data = self._get("query", {"query": expr})
        return [Sample(item["metric"], float(item["value"][1])) for item in data["result"]]

    def range(self, expr: str, *, start: dt.datetime, end: dt.datetime, step_s: float) -> list[Series]:
        """Every series ``expr`` yields from ``start`` to ``end``, one point per ``step_s`` seconds."""
        params = {"query": expr, "start": start.timestamp(), "end": end.timestamp(), "step": step_s}
        data = self._get("query_range", params)
        return [
            Series(
                item["metric"],
                tuple((float(t), v) for t, raw in item["values"] if math.isfinite(v := float(raw))),
            )
            for item in data["result"]
        ]

    def _get(self, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url}/api/v1/{endpoint}"
        try:
            response = httpx.get(url, params=params, timeout=self.timeout_s)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ServiceUnavailableError(f"Prometheus at {self.base_url} did not answer: {exc}") from exc
        if body.get("status") != "success":
            raise ServiceUnavailableError(
                f"Prometheus refused {params['query']!r}: {body.get('errorType')}: {body.get('error')}"
            )
        data: dict[str, Any] = body["data"]
        return data
