"""The gateway's FastAPI application factory.

Wiring happens in the lifespan (``build_platform``), so importing this module or
calling ``create_app`` connects to nothing; tests pass their own settings.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, nullcontext
from importlib.metadata import version

from fastapi import Depends, FastAPI
from fastapi.telemetry import TelemetryConfig
from prometheus_client import CollectorRegistry

from folio.audit.http import router as audit_router
from folio.bootstrap import Platform, build_platform
from folio.catalog.http import OPENAPI_TAGS as CATALOG_OPENAPI_TAGS
from folio.catalog.http import v1_router as catalog_v1_router
from folio.catalog.http import v2_router as catalog_v2_router
from folio.core.settings import Settings, load_settings
from folio.entrypoints.gateway.api_docs import install_api_docs
from folio.entrypoints.gateway.body_limit import BodyLimitMiddleware
from folio.entrypoints.gateway.graphql import graphql_routes
from folio.entrypoints.gateway.health import Liveness, add_service_checks
from folio.entrypoints.gateway.health import router as health_router
from folio.entrypoints.gateway.limits import enforce_api_limits, usage_flusher
from folio.entrypoints.gateway.middleware import (
    DatabaseBreakerCollector,
    HttpMetrics,
    RequestContextMiddleware,
)
from folio.entrypoints.gateway.openapi import install_openapi
from folio.entrypoints.gateway.problems import install_problem_handlers
from folio.entrypoints.web import mount_web_app
from folio.httpkit.body_limits import api_body_limits
from folio.identity.http import account_router, auth_router
from folio.live.api import serving_live
from folio.live.http import router as live_router
from folio.orders.http import OPENAPI_TAGS as ORDERS_OPENAPI_TAGS
from folio.orders.http import payment_events_router
from folio.orders.http import router as orders_router
from folio.payments.http import keys_router as payments_keys_router
from folio.payments.http import stripe_router
from folio.search.http import OPENAPI_TAGS as SEARCH_OPENAPI_TAGS
from folio.search.http import router as search_router
from folio.tasks.http import OPENAPI_TAGS as TASKS_OPENAPI_TAGS
from folio.tasks.http import v1_router as tasks_v1_router
from folio.tasks.http import v2_router as tasks_v2_router
from folio.usage.api import API_CALL_METER
from folio.usage.http import router as usage_router

OPENAPI_URL = "/openapi.json"
NO_OPENTELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}

DESCRIPTION = """
Folio's public HTTP API. Every error is an RFC 9457 `application/problem+json`
body with a stable `type`; every response carries the request's `X-Request-ID`.
"""


@contextmanager
def startup_heap_frozen() -> Iterator[None]:
    """While the app serves, keep what startup built out of the garbage collector's full passes.

    The app, its routes, models and settings are a few hundred thousand objects that
    live as long as the process, and every full (generation 2) collection walked them
    all: 160-220 ms with the event loop stopped, several times a minute under load,
    which was the API's p99 (``benchmarks/bench_api_vs_template.py``). ``gc.freeze``
    moves them to a permanent generation that collections skip; the objects requests
    create are collected as before. No collection first: startup's garbage, frozen
    with the rest, is freed after shutdown, when the block unfreezes everything.

    ``gc.freeze`` takes the whole process's heap, so only a process that is the gateway
    asks for it (``create_app(freeze_heap=True)``: ``python -m folio.entrypoints.gateway``
    and the benchmark). An app a test builds inside its own process must not: it would
    freeze every earlier test's garbage too, and at its shutdown hand all of it to one
    full collection (21 s in the suite) with whatever finalizers that garbage holds.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def create_app(
    settings: Settings | None = None, platform: Platform | None = None, *, freeze_heap: bool = False
) -> FastAPI:
    """Build the gateway app; ``platform`` replaces the wired adapters (tests).

    ``freeze_heap``: keep the startup heap out of full collections while serving
    (``startup_heap_frozen``); only for a process that is the gateway.
    """
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.platform = wired = platform or add_service_checks(build_platform(settings))
        breakers = DatabaseBreakerCollector(wired.database)
        app.state.metrics.registry.register(breakers)
        try:
            # Background probes, not users' requests, find a database back after an
            # outage; API calls are counted in the cache and copied into usage_daily.
            async with (
                wired.database.recovery_probes(),
                usage_flusher(
                    wired.get(API_CALL_METER),
                    wired.database,
                    interval_s=wired.settings.tenancy.usage_flush_interval_s,
                ),
                serving_live(wired.settings, registry=app.state.metrics.registry) as live_hub,
            ):
                app.state.live_hub = live_hub  # the live routes' fan-out (folio.live.http)
                with startup_heap_frozen() if freeze_heap else nullcontext():
                    yield
        finally:
            app.state.metrics.registry.unregister(breakers)
            if platform is None:
                await wired.aclose()

    docs = settings.gateway.docs_enabled
    app = FastAPI(
        title="Folio API",
        version=version("folio"),
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[*TASKS_OPENAPI_TAGS, *CATALOG_OPENAPI_TAGS, *SEARCH_OPENAPI_TAGS, *ORDERS_OPENAPI_TAGS],
        # /docs and /redoc are served from packaged assets (install_api_docs), not a CDN.
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL if docs else None,
        # FastAPI's own OpenTelemetry hooks ask the global providers (environment
        # lookups) on every request; Folio exports its metrics and logs itself and has
        # no OpenTelemetry providers to feed yet.
        telemetry=NO_OPENTELEMETRY,
    )
    app.state.settings = settings
    app.state.metrics = HttpMetrics(CollectorRegistry())
    install_problem_handlers(app)
    body_limits = api_body_limits(settings.api)
    # Added first, so it runs inside the request context: its 413s are logged and counted.
    app.add_middleware(BodyLimitMiddleware, limits=body_limits)
    liveness = Liveness(status="ok", service="gateway", version=app.version)
    app.add_middleware(
        RequestContextMiddleware,
        metrics=app.state.metrics,
        liveness=liveness.model_dump_json().encode(),
        budget_s=settings.gateway.request_budget_s,
    )
    app.include_router(health_router)
    # Auth endpoints throttle logins themselves (per IP and per account); every other
    # API route counts against the caller's and the shop's rate limits.
    app.include_router(auth_router, prefix="/api/v1")
    limited = [Depends(enforce_api_limits)]
    app.include_router(account_router, prefix="/api/v1", dependencies=limited)
    app.include_router(tasks_v1_router, prefix="/api/v1", dependencies=limited)
    app.include_router(tasks_v2_router, prefix="/api/v2", dependencies=limited)
    app.include_router(catalog_v1_router, prefix="/api/v1", dependencies=limited)
    app.include_router(catalog_v2_router, prefix="/api/v2", dependencies=limited)
    app.include_router(search_router, prefix="/api/v1", dependencies=limited)
    app.include_router(audit_router, prefix="/api/v1", dependencies=limited)
    app.include_router(usage_router, prefix="/api/v1", dependencies=limited)
    # Signed by a payments account, not sent by a Folio caller: no API authentication or limits.
    app.include_router(payment_events_router, prefix="/api/v1")
    app.include_router(orders_router, prefix="/api/v1", dependencies=limited)
    app.include_router(payments_keys_router, prefix="/api/v1", dependencies=limited)
    # The same authentication, rate limits and quota as /api (docs/graphql.md).
    app.include_router(graphql_routes(settings.graphql, limits=limited))
    # Long-lived streams: authenticated once when they open (a token in the subprotocol or
    # the query string, which the API's limiter does not read), not metered per message.
    app.include_router(live_router, prefix="/api/v1")
    # Stripe's wire format, for the official `stripe` library: its own key auth and errors.
    app.include_router(stripe_router, prefix="/stripe")
    if docs:
        install_api_docs(app, openapi_url=OPENAPI_URL)
    mount_web_app(app, settings)
    install_openapi(app, body_limits)
    return app
