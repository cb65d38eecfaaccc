"""Liveness, readiness and metrics endpoints.

Readiness answers a load balancer's one question, "may I send this process requests?":

- 200 ``ready``: every dependency answered;
- 200 ``degraded``: some did not, but the process still serves part of the API. Today
  that is one database engine down while the other answers: with the primary down,
  reads go to the replica (writes get a fast 503 ``database-unavailable``); with the
  replica down, reads go to the primary. ``checks`` says which part is missing;
- 503 ``service-unavailable``: it can serve nothing (no database engine answers, or
  the cache that rate limits every API request is down). Take it out of rotation.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import BaseModel, Field

from folio.core.errors import PROBLEM_BASE, Problem
from folio.core.logging import correlation_id
from folio.entrypoints.gateway.problems import problem_response
from folio.httpkit import PlatformDep

router = APIRouter(tags=["health"])
READINESS_TIMEOUT_S = 3.0


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


def can_serve(failed: set[str], checked: set[str]) -> bool:
    """Whether a process whose ``failed`` checks (out of ``checked``) failed can still serve requests.

    It can while at least one database engine answers and every other dependency does.
    """
    engines = DATABASE_ENGINES & checked
    return not (failed - DATABASE_ENGINES) and (not engines or bool(engines - failed))


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
    `database-unavailable` until it is back); 503 when nothing can be served.
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
    """The app's metrics, then the process's, in the Prometheus text format.

    The app's (HTTP, circuit breakers) live in its own registry, so a process may build
    several apps (tests do); the process's (caches, Python's runtime and resources)
    live in the default registry, one set per process.
    """
    exposition = generate_latest(request.app.state.metrics.registry) + generate_latest(REGISTRY)
    return Response(exposition, media_type=CONTENT_TYPE_LATEST)
