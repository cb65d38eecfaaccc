"""Liveness, readiness and metrics endpoints."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from folio.bootstrap import Platform
from folio.core.errors import PROBLEM_BASE, Problem
from folio.core.logging import correlation_id
from folio.entrypoints.gateway.problems import problem_response

router = APIRouter(tags=["health"])
READINESS_TIMEOUT_S = 3.0


class Liveness(BaseModel):
    """The process is up and serving."""

    status: str = Field(examples=["ok"])
    service: str
    version: str


class Readiness(BaseModel):
    """Every dependency answered."""

    status: str = Field(examples=["ready"])
    checks: dict[str, str]


def get_platform(request: Request) -> Platform:
    """The platform wired in the app's lifespan."""
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


@router.get("/healthz", response_model=Liveness, summary="Liveness: the process serves requests")
async def healthz(request: Request) -> Liveness:
    """Answers without touching any dependency, so orchestrators restart only a wedged process."""
    return Liveness(status="ok", service="gateway", version=request.app.version)


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: every dependency answers",
    responses={503: {"model": Problem, "description": "A dependency is down"}},
)
async def readyz(platform: PlatformDep, request: Request) -> Any:
    """Runs every readiness check concurrently, each bounded by a timeout."""
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
    if all(value == "ok" for value in checks.values()):
        return Readiness(status="ready", checks=checks)
    return problem_response(
        Problem(
            type=PROBLEM_BASE + "service-unavailable",
            title="Service unavailable",
            status=503,
            detail="a dependency is not ready",
            instance=request.url.path,
            code="service-unavailable",
            correlation_id=correlation_id(),
            checks=checks,
        )
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """The app's metrics in the Prometheus text format."""
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
