"""``folio traces``: run the trace receiver (``collect``, what ``folio up`` supervises)."""

from __future__ import annotations

import asyncio
import signal

import click

from folio.clikit import CliContext, examples, pass_cli, run_on_platform
from folio.core.platform import Platform

__all__ = ["traces_group"]


@click.group("traces")
def traces_group() -> None:
    """Folio's own trace backend: the OTLP/HTTP receiver with tail sampling (see docs/observability.md)."""


@traces_group.command("collect", epilog=examples("folio traces collect"))
@pass_cli
def collect_command(cli: CliContext) -> None:
    """Receive OTLP/HTTP spans on traces.port, tail-sample them and store the kept traces, until SIGTERM."""
    from folio.traces.api import TraceReceiver

    settings = cli.settings.traces
    cli.console.print(f"receiving OTLP/HTTP traces on http://{settings.host}:{settings.port}/v1/traces")

    async def work(platform: Platform) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await TraceReceiver(platform.database, settings).serve(stop)

    run_on_platform(cli, work)
