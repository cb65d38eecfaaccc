"""Liveness, readiness and metrics endpoints.

Readiness answers a load balancer's one question, "may I send this process requests?":

- 200 ``ready``: every dependency answered;
- 200 ``degraded``: some did not, but the process still serves part of the API. That is
  one database engine down while the other answers: with the primary down, reads go to
  the replica (writes get a fast 503 ``database-unavailable``); with the replica down,
  reads go to the primary. Or the orders gRPC service down (``orders``, its standard
  health check, ``SERVICE_CHECK_TIMEOUT_S``): ``/api/v1/orders`` and the web shop answer
  503 until it is back, everything else serves. ``checks`` says which part is missing;
- 503 ``service-unavailable``: it can serve nothing (no database engine answers, or
  the cache that rate limits every API request is down). Take it out of rotation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from functools import partial
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from prometheus_client import REGISTRY, CollectorRegistry, Metric
from prometheus_client.exposition import choose_encoder
from pydantic import BaseModel, Field

from folio.core.errors import PROBLEM_BASE, Problem
from folio.core.logging import correlation_id
from folio.core.platform import Platform
from folio.entrypoints.gateway.problems import problem_response
from folio.httpkit import PlatformDep
from folio.orders.api import ORDERS_CLIENT

router = APIRouter(tags=["health"])
READINESS_TIMEOUT_S = 3.0
SERVICE_CHECK_TIMEOUT_S = 1.0
"""The deadline of a gRPC service's health check: a probe must answer well within the balancer's timeout."""


class Liveness(BaseModel):
    """The process is up and serving."""

    status: str = Field(examples=["ok"])
    service: str
    version: str


class Readiness(BaseModel):
    """The process can serve: ``ready`` when every dependency answered, ``degraded`` when some did not."""

    status: Literal["ready", "degraded"] = Field(examples=["ready", "degraded"])
    checks: dict[str, str] = Field(description="Each dependency: `ok`, or why it failed.")


DATABASE_ENGINES = frozenset({"database", "database-replica"})
"""Readiness checks of which one answering is enough to serve (reads go to whichever is up)."""
PARTIAL_DEPENDENCIES = frozenset({"orders"})
"""Readiness checks whose failure takes out only their own routes: the process is degraded, not down."""


def can_serve(failed: set[str], checked: set[str]) -> bool:
    """Whether a process whose ``failed`` checks (out of ``checked``) failed can still serve requests.

    It can while at least one database engine answers and every other dependency does,
    but for the ``PARTIAL_DEPENDENCIES``.
    """
    engines = DATABASE_ENGINES & checked
    return not (failed - DATABASE_ENGINES - PARTIAL_DEPENDENCIES) and (not engines or bool(engines - failed))


def add_service_checks(platform: Platform) -> Platform:
    """``platform`` with the readiness check of each gRPC service the gateway calls (``orders``) added.

    The gateway's lifespan does this to the platform it builds; a test that passes its
    own platform decides its checks itself (and may call this for the gateway's).
    """
    orders = platform.find(ORDERS_CLIENT)
    if orders is not None:
        platform.readiness.setdefault(
            "orders", partial(orders.check_serving, timeout_s=SERVICE_CHECK_TIMEOUT_S)
        )
    return platform


@router.get("/healthz", response_model=Liveness, summary="Liveness: the process serves requests")
async def healthz(request: Request) -> Liveness:
    """Answers without touching any dependency, so orchestrators restart only a wedged process."""
    return Liveness(status="ok", service="gateway", version=request.app.version)


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: the process can serve (200 ready or degraded, else 503)",
    responses={503: {"description": "The process can serve nothing: take it out of rotation."}},
)
async def readyz(platform: PlatformDep, request: Request) -> Any:
    """Runs every readiness check concurrently, each bounded by a timeout.

    200 `ready` when all answer; 200 `degraded` when one database engine is down but
    the other answers (reads keep working; with the primary down, writes answer 503
    `database-unavailable` until it is back), or when the orders gRPC service is (the
    orders API and the web shop answer 503 until it is back); 503 when nothing can be
    served.
    """
    names = list(platform.readiness)
    results = await asyncio.gather(
        *(asyncio.wait_for(platform.readiness[name](), READINESS_TIMEOUT_S) for name in names),
        return_exceptions=True,
    )
    checks = {
        name: "ok"
        if not isinstance(result, BaseException)
        else f"failed: {type(result).__name__}: {result}"[:300]
        for name, result in zip(names, results, strict=True)
    }
    failed = {name for name, value in checks.items() if value != "ok"}
    if not failed:
        return Readiness(status="ready", checks=checks)
    if can_serve(failed, set(checks)):
        return Readiness(status="degraded", checks=checks)
    return problem_response(
        Problem(
            type=PROBLEM_BASE + "service-unavailable",
            title="Service unavailable",
            status=503,
            detail=f"cannot serve: {', '.join(sorted(failed))} not ready",
            instance=request.url.path,
            code="service-unavailable",
            correlation_id=correlation_id(),
            checks=checks,
        )
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """The app's metrics, then the process's, in the format the scraper asks for.

    The app's (HTTP, circuit breakers) live in its own registry, so a process may build
    several apps (tests do); the process's (caches, Python's runtime and resources)
    live in the default registry, one set per process. A scraper that accepts
    OpenMetrics (Prometheus does) gets it, with the exemplars linking latency buckets to
    traces; anything else gets the classic text format, which has no exemplars.
    """
    encode, media_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(_Registries(request.app.state.metrics.registry, REGISTRY)), media_type=media_type)


class _Registries:
    """Several registries as one: OpenMetrics allows one ``# EOF``, which two expositions would repeat."""

    def __init__(self, *registries: CollectorRegistry) -> None:
        self.registries = registries

    def collect(self) -> Iterator[Metric]:
        """Every metric of each registry, in order."""
        for registry in self.registries:
            yield from registry.collect()
