"""Peer applications the benchmarks compare Folio against."""

from __future__ import annotations

from fastapi import FastAPI


def bare_fastapi() -> FastAPI:
    """FastAPI with no middleware, answering /healthz like Folio's gateway does."""
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "gateway", "version": "0.1.0"}

    return app
