"""``folio inbox``: watch the inbox folder (the process ``folio up`` supervises), and read its ledger.

pyarrow and watchdog load inside ``watch``, never when ``folio`` starts.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from folio.clikit import CliContext, examples, pass_cli, run_on_platform

if TYPE_CHECKING:
    from folio.core.platform import Platform
    from folio.inbox.api import LedgerSummary

__all__ = ["inbox_group"]


@click.group("inbox")
def inbox_group() -> None:
    """The folder-watch inbox: CSV, JSON Lines and Parquet files dropped in a folder land in the lake."""


@inbox_group.command(
    "watch",
    epilog=examples(
        "folio inbox watch",
        "folio inbox watch --folder /srv/drop --settle 5",
        "cp orders-2026-12-01.csv .folio/inbox/",
    ),
)
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to watch (default: inbox.path, else <home>/inbox).",
)
@click.option(
    "--settle",
    "settle_s",
    type=click.FloatRange(min=0),
    help="Seconds a file must stay unchanged before it is read (default: inbox.settle_s).",
)
@click.option("--no-metrics", is_flag=True, help="Do not serve Prometheus metrics on inbox.metrics_port.")
@pass_cli
def watch_command(cli: CliContext, folder: Path | None, settle_s: float | None, no_metrics: bool) -> None:
    """Watch the inbox folder and load each complete file into the lake, until Ctrl-C or SIGTERM.

    Traced when ``telemetry.enabled`` (as under ``folio up``): each file's load is a span.
    """
    from folio.core.process_telemetry import process_telemetry
    from folio.inbox.api import inbox_folder, watch_inbox

    settings = cli.settings
    where = folder or inbox_folder(settings)
    config = settings.inbox

    async def work(platform: Platform) -> None:
        # SIGTERM (the supervisor's stop) and Ctrl-C end the watch; loads in flight finish first.
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await watch_inbox(platform, stop=stop, folder=where, settle_s=settle_s)

    with process_telemetry(
        settings.telemetry,
        service=settings.service_name,
        metrics_port=0 if no_metrics else config.metrics_port,
        metrics_host=config.metrics_host,
    ):
        cli.console.print(f"watching {escape(str(where.absolute()))} (Ctrl-C stops)")
        run_on_platform(cli, work)


@inbox_group.command("status", epilog=examples("folio inbox status", "folio inbox status --failures 20"))
@click.option(
    "--failures", type=click.IntRange(0, 200), default=10, show_default=True, help="Latest failures to list."
)
@pass_cli
def status_command(cli: CliContext, failures: int) -> None:
    """The ledger: files per status, rows loaded, and the latest failed or quarantined files."""
    from folio.inbox.api import inbox_status

    async def work(platform: Platform) -> LedgerSummary:
        return await inbox_status(platform.database, failures=failures)

    summary = run_on_platform(cli, work)
    counts = ", ".join(f"{status.value} {count}" for status, count in summary.files.items())
    cli.console.print(f"files: {counts}; rows loaded: {summary.rows_loaded}")
    if not summary.recent_failures:
        return
    table = Table("when (UTC)", "file", "dataset", "status", "attempts", "last error", title="Failures")
    for entry in summary.recent_failures:
        table.add_row(
            f"{entry.updated_at:%Y-%m-%d %H:%M:%S}",
            escape(entry.file_name),
            entry.dataset,
            entry.status.value,
            str(entry.attempts),
            escape((entry.last_error or "").splitlines()[0][:120] if entry.last_error else ""),
        )
    cli.console.print(table)
