"""``python -m folio.entrypoints.gateway``: run the gateway with uvicorn.

This is the command ``folio up`` supervises. Logging goes through Folio's pipeline
(uvicorn's own config is disabled), the settings reload on SIGHUP or config-file
change, and SIGTERM shuts down gracefully.
"""

from __future__ import annotations

import functools

import uvicorn

from folio.core.logging import configure_logging
from folio.core.settings import SettingsReloader, active_config_file, load_settings
from folio.core.telemetry import instrument_fastapi, shutdown_telemetry, start_telemetry
from folio.entrypoints.gateway.app import create_app


def main() -> None:
    """Load settings, configure logging and serve until SIGTERM."""
    settings = load_settings()
    runtime = configure_logging(settings.logging, service="gateway", search=settings.services.search)
    start_telemetry(settings.telemetry, service="gateway", libraries=("redis", "httpx"))
    reloader = SettingsReloader(settings, functools.partial(load_settings))
    reloader.subscribe(lambda _settings, _paths: runtime.apply_levels())
    reloader.install_sighup()
    config_file = active_config_file()
    if config_file is not None:
        reloader.watch(config_file)
    app = create_app(settings, freeze_heap=True)
    instrument_fastapi(app)
    config = uvicorn.Config(
        app,
        host=settings.gateway.host,
        port=settings.gateway.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        timeout_graceful_shutdown=10,
    )
    try:
        uvicorn.Server(config).run()
    finally:
        reloader.stop()
        shutdown_telemetry()


if __name__ == "__main__":
    main()
