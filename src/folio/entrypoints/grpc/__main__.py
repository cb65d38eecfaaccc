"""``python -m folio.entrypoints.grpc users|orders``: run one gRPC service (what ``folio up`` supervises)."""

from __future__ import annotations

import asyncio
import sys

from folio.core.logging import configure_logging, shutdown_logging
from folio.core.settings import load_settings
from folio.core.telemetry import shutdown_telemetry, start_telemetry
from folio.entrypoints.grpc import SERVICES, serve
from folio.ops.services.prometheus import register_scrape_target, unregister_scrape_target


def main(argv: list[str] | None = None) -> int:
    """Load settings, configure logging, serve the named service until SIGTERM."""
    args = sys.argv[1:] if argv is None else argv
    name = next((service for service in SERVICES if args == [service]), None)
    if name is None:
        print(f"usage: python -m folio.entrypoints.grpc {{{'|'.join(SERVICES)}}}", file=sys.stderr)  # noqa: T201
        return 2
    settings = load_settings()
    configure_logging(settings.logging, service=name, search=settings.services.search)
    start_telemetry(settings.telemetry, service=name, libraries=("redis", "httpx"))
    endpoint = settings.grpc.users if name == "users" else settings.grpc.orders
    # Named after the port too: with the mesh on, two orders servers register side by side.
    target = f"{name}-grpc-{endpoint.port}"
    # Prometheus (not in lite mode) finds the metrics port through its file discovery.
    if not settings.lite_mode:
        register_scrape_target(settings, target, endpoint.host, endpoint.metrics_port, {"job_kind": "grpc"})
    try:
        asyncio.run(serve(settings, name))
    finally:
        if not settings.lite_mode:
            unregister_scrape_target(settings, target)
        shutdown_telemetry()
        shutdown_logging()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
