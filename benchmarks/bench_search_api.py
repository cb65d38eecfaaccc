"""Search the full catalogue through Folio's API, beside the same searches sent straight to Typesense.

The catalogue is the real Book-Crossing books plus the public-domain texts, imported
with ``folio catalog import`` (idempotent: a second run changes nothing) and indexed
with ``folio search reindex --works`` when the index is behind the database. The
queries are known-item queries derived from real works (``known_item_queries``, fixed
seed). Folio's side is the whole gateway path: JWT authentication, rate limits and
metering in Redis, the DSL compiled with Folio's stemming, the engine call, and
Folio-side highlighting. The peer is Typesense itself answering the very parameters the
API sends (``plan_search``), so the ratio is what Folio adds on top of the engine. The
engine's own ``search_time_ms`` (time inside Typesense) is reported beside both.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
from urllib.parse import urlencode

import httpx

from benchmarks.harness import BenchResult, measure_http, serve_app
from benchmarks.seeding import register_bench_shop
from folio.core.db import open_database
from folio.core.migrations import upgrade
from folio.core.settings import Settings, load_settings

NAME = "search_api"
SECONDS = int(os.environ.get("FOLIO_BENCH_SECONDS", "10"))
CONNECTIONS = 8
QUERIES = 200
SEED = 7
PER_PAGE = 10
SOURCES = ("book-crossing", "shakespeare-texts", "austen-novels", "bible-kjv", "devils-dictionary")

FOLIO_ENV = {
    "FOLIO_DATABASE_BACKEND": "postgres",
    "FOLIO_CACHE_BACKEND": "redis",
    "FOLIO_API_RATE_LIMIT_PER_KEY": "100000000/minute",
    "FOLIO_API_RATE_LIMIT_PER_TENANT": "100000000/minute",
    "FOLIO_TENANCY_QUOTAS_API_CALLS_PER_DAY": "1000000000",
    "FOLIO_IDENTITY_ACCESS_TTL_S": "3600",
    "FOLIO_LOGGING_SHIP_TO_SEARCH": "false",
    "FOLIO_SERVICES_POSTGRES_REPLICA_ENABLED": "false",
}


def _folio(*args: str) -> None:
    """Run one ``folio`` CLI command in a child process, failing loudly."""
    subprocess.run([sys.executable, "-m", "folio", *args], check=True, env={**os.environ, **FOLIO_ENV})


async def _prepare(settings: Settings) -> tuple[list[str], str, int]:
    """Known-item queries over the imported works, an access token, and the number of works."""
    from folio.catalog import api as catalog
    from folio.search import api as search

    async with open_database(settings.database, settings.database_url) as db:
        works = [work async for batch in catalog.iter_works(db) for work in batch]
        async with search.open_search(settings) as backend:
            indexed = {status.alias: status.documents or 0 for status in await search.index_status(backend)}
            if indexed.get(backend.names.works(), 0) < len(works):
                await search.reindex_works(db, backend)
        queries = [judged.query for judged in search.known_item_queries(works, n=QUERIES, seed=SEED)]
        shop = await register_bench_shop(db, settings)
    return queries, shop.access_token, len(works)


def _engine_paths(queries: list[str], alias: str) -> list[str]:
    """The Typesense request for each query, with exactly the parameters the API sends."""
    from folio.search.api import Tuning, plan_search

    paths = []
    for query in queries:
        planned = plan_search(
            query, tenant_value="public", tuning=Tuning(), page=1, per_page=PER_PAGE, facets=[]
        )
        paths.append(f"/collections/{alias}/documents/search?{urlencode(planned.params)}")
    return paths


def _engine_times_ms(base: str, paths: list[str], key: str) -> list[float]:
    """Typesense's own ``search_time_ms`` for each request, sent one at a time."""
    with httpx.Client(base_url=base, headers={"X-TYPESENSE-API-KEY": key}, timeout=30) as client:
        return [float(client.get(path).raise_for_status().json()["search_time_ms"]) for path in paths]


def run() -> BenchResult:
    """Import and index the catalogue if needed, then load the API and the engine in turn."""
    os.environ.update(FOLIO_ENV)
    settings = load_settings()
    upgrade(settings.database_migration_url)
    for source in SOURCES:
        _folio("data", "fetch", source)
        _folio("catalog", "import", source)
    queries, token, works = asyncio.run(_prepare(settings))
    folio_paths = [
        f"/api/v1/search/works?{urlencode({'q': q, 'per_page': PER_PAGE, 'facets': ''})}" for q in queries
    ]
    with serve_app("benchmarks.apps:folio_gateway", FOLIO_ENV) as base:
        folio = measure_http(
            base,
            label="folio",
            seconds=SECONDS,
            connections=CONNECTIONS,
            headers={"Authorization": f"Bearer {token}"},
            paths=folio_paths,
        )
    search_settings = settings.services.search
    engine_key = search_settings.api_key.get_secret_value()
    engine_paths = _engine_paths(queries, "works")
    engine = measure_http(
        search_settings.url,
        label="typesense",
        seconds=SECONDS,
        connections=CONNECTIONS,
        headers={"X-TYPESENSE-API-KEY": engine_key},
        paths=engine_paths,
    )
    if folio.errors or engine.errors:
        raise RuntimeError(f"requests failed during the run: folio {folio.errors}, engine {engine.errors}")
    inside = _engine_times_ms(search_settings.url, engine_paths, engine_key)
    return BenchResult.comparing(
        __doc__,
        name=NAME,
        folio=folio,
        peer=engine,
        ratio_label="folio API/typesense req/s",
        parameters={
            "seconds": SECONDS,
            "connections": CONNECTIONS,
            "works_indexed": works,
            "queries": f"{len(queries)} known-item queries (seed {SEED}), {PER_PAGE} hits, no facets",
            "folio_p95_ms": folio.p95_ms,
            "typesense_p95_ms": engine.p95_ms,
            "typesense_search_time_ms_p50": statistics.median(inside),
            "typesense_search_time_ms_p95": statistics.quantiles(inside, n=20)[-1],
            "endpoint": "GET /api/v1/search/works",
            "load": "wrk -t2, queries in turn (Lua)",
        },
    )
