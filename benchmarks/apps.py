"""Folio's side of the benchmarks, as uvicorn factories."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from folio.core.logging import configure_logging
from folio.core.settings import load_settings
from folio.entrypoints.gateway import create_app


def folio_gateway() -> FastAPI:
    """The real gateway: full middleware stack, requests logged as JSON (to a null sink).

    Logging as configured by default: every API request's line, 1% of health probes'.
    """
    settings = load_settings()
    settings.logging.file = None
    null_sink = Path(os.devnull).open("w")  # noqa: SIM115 - lives as long as the process
    configure_logging(settings.logging, service="gateway", stream=null_sink)
    return create_app(settings, freeze_heap=True)
