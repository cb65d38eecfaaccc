"""``folio catalog``: import works from the fetched data sets, make previews, inspect runs.

Heavy modules (the catalog context, SQLAlchemy, fpdf2, boto3) are imported inside the
commands so ``folio --help`` stays fast.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import click

from folio.entrypoints.cli.context import CliContext, pass_cli
from folio.entrypoints.cli.data import data_dir_of
from folio.entrypoints.cli.tenants import run_with_database

if TYPE_CHECKING:
    from folio.catalog.api import ImportRunRead, PreviewReport, QuarantinedRowRead
    from folio.core.db import Database

SOURCE_NAMES = ("book-crossing", "shakespeare-texts", "austen-novels", "bible-kjv", "devils-dictionary")


@click.group("catalog")
def catalog_group() -> None:
    """The shared catalogue of works: imports, quarantine, previews."""


def _progress(cli: CliContext, description: str):  # type: ignore[no-untyped-def]  # rich's Progress is untyped-generic
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        SpinnerColumn(),
        TextColumn(f"[bold]{description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=cli.console,
        transient=False,
    )


def _print_run(cli: CliContext, run: ImportRunRead, seconds: float) -> None:
    from rich.table import Table

    table = Table("count", "rows", title=f"import {run.source} ({run.status}) run {run.id}")
    for name, value in run.counts.items():
        table.add_row(name, f"{value:,}")
    read = run.counts.get("read", 0)
    table.add_row("rows/s", f"{read / seconds:,.0f}" if seconds > 0 else "-")
    cli.console.print(table)
    if run.reasons:
        reasons = Table("reason", "rows", title="quarantined, by reason")
        for reason, count in sorted(run.reasons.items(), key=lambda item: -item[1]):
            reasons.add_row(reason, f"{count:,}")
        cli.console.print(reasons)


@catalog_group.command(
    "import",
    epilog="""\b
Examples:
  folio data fetch book-crossing && folio catalog import book-crossing
  folio catalog import shakespeare-texts --previews
  folio catalog import book-crossing --limit 5000""",
)
@click.argument("source", type=click.Choice(SOURCE_NAMES))
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many input rows.")
@click.option("--batch-size", type=click.IntRange(1, 5000), default=1000, show_default=True)
@click.option("--previews", is_flag=True, help="Also make sample-chapter PDFs (public-domain texts).")
@pass_cli
def import_command(cli: CliContext, source: str, limit: int | None, batch_size: int, previews: bool) -> None:
    """Import (upsert) the works of a fetched data set; refused rows go to the quarantine."""
    from folio.catalog.api import PUBLIC_DOMAIN_SOURCES, import_source, run_previews
    from folio.core.objectstore import object_store_for

    settings = cli.settings
    data_dir = data_dir_of(cli)
    if not (data_dir / source).exists():
        cli.fail(f"{source} is not fetched; run `folio data fetch {source}` first")
    if previews and source not in PUBLIC_DOMAIN_SOURCES:
        cli.fail("--previews is for public-domain texts only")
    started = time.perf_counter()

    async def work(db: Database) -> tuple[ImportRunRead, PreviewReport | None]:
        with _progress(cli, f"import {source}") as progress:
            task = progress.add_task(source, total=limit, rate="")

            def advance(rows: int) -> None:
                done = progress.tasks[0].completed + rows
                rate = done / max(time.perf_counter() - started, 1e-9)
                progress.update(task, completed=done, rate=f"{rate:,.0f} rows/s")

            run = await import_source(
                db, source=source, data_dir=data_dir, limit=limit, batch_size=batch_size, on_batch=advance
            )
        report = None
        if previews:
            report = await run_previews(
                db, object_store_for(settings), source=source, data_dir=data_dir, limit=limit
            )
        return run, report

    run, report = run_with_database(cli, work)
    _print_run(cli, run, time.perf_counter() - started)
    if report is not None:
        cli.console.print(
            f"previews: {report.generated} made, {report.unchanged} unchanged, "
            f"{report.missing_work} texts without a work"
        )


@catalog_group.command(
    "previews",
    epilog="""\b
Examples:
  folio catalog previews --source austen-novels
  folio catalog previews --limit 5
  folio catalog previews --export .folio/previews && folio pdf index .folio/previews""",
)
@click.option("--source", type=click.Choice(SOURCE_NAMES[1:]), multiple=True, help="Only these sources.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many texts per source.")
@click.option(
    "--export",
    "export_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Instead: copy every stored preview to DIR/<work id>.pdf (for `folio pdf index DIR`).",
)
@pass_cli
def previews_command(
    cli: CliContext, source: tuple[str, ...], limit: int | None, export_dir: Path | None
) -> None:
    """Make sample-chapter PDFs for imported public-domain texts and store them in the object store."""
    from folio.catalog.api import export_previews, run_previews
    from folio.core.objectstore import object_store_for

    settings = cli.settings
    if export_dir is not None:
        target = export_dir

        async def export(db: Database) -> int:
            return await export_previews(db, object_store_for(settings), target=target)

        cli.console.print(f"exported {run_with_database(cli, export)} previews to {target}")
        return
    data_dir = data_dir_of(cli)
    sources = [name for name in (source or SOURCE_NAMES[1:]) if (data_dir / name).exists()]
    if not sources:
        cli.fail("none of the public-domain sources is fetched; run `folio data fetch <source>` first")

    async def work(db: Database) -> dict[str, PreviewReport]:
        store = object_store_for(settings)
        return {
            name: await run_previews(db, store, source=name, data_dir=data_dir, limit=limit)
            for name in sources
        }

    for name, report in run_with_database(cli, work).items():
        cli.console.print(
            f"{name}: {report.generated} made, {report.unchanged} unchanged, "
            f"{report.missing_work} without a work"
        )


@catalog_group.command(
    "import-runs",
    epilog="""\b
Examples:
  folio catalog import-runs --limit 5""",
)
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True)
@pass_cli
def import_runs_command(cli: CliContext, limit: int) -> None:
    """The latest import runs and their counts."""
    from rich.table import Table

    from folio.catalog.api import list_import_runs

    async def work(db: Database) -> list[ImportRunRead]:
        return await list_import_runs(db, limit=limit)

    runs = run_with_database(cli, work)
    table = Table(
        "run", "source", "status", "started (UTC)", "read", "inserted", "updated", "unchanged", "quarantined"
    )
    for run in runs:
        c = run.counts
        table.add_row(
            str(run.id),
            run.source,
            run.status,
            f"{run.started_at:%Y-%m-%d %H:%M:%S}",
            *(f"{c.get(name, 0):,}" for name in ("read", "inserted", "updated", "unchanged", "quarantined")),
        )
    cli.console.print(table if runs else "no import runs yet")


@catalog_group.command(
    "quarantine",
    epilog="""\b
Examples:
  folio catalog quarantine                       the latest refused rows
  folio catalog quarantine --reason invalid-isbn --limit 20""",
)
@click.option(
    "--run", "run_id", type=click.UUID, help="Rows of this run (default: the latest run that refused any)."
)
@click.option("--reason", help="Only rows refused for this reason (see docs/catalog.md).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@pass_cli
def quarantine_command(cli: CliContext, run_id: uuid.UUID | None, reason: str | None, limit: int) -> None:
    """Rows an import refused, with the reason and the raw line."""
    from rich.table import Table

    from folio.catalog.api import list_quarantine

    async def work(db: Database) -> list[QuarantinedRowRead]:
        return await list_quarantine(db, run_id=run_id, reason=reason, limit=limit)

    rows = run_with_database(cli, work)
    table = Table("line", "reason", "detail", "raw")
    for row in rows:
        table.add_row(str(row.line_no), row.reason, row.detail[:60], row.raw[:80])
    cli.console.print(table if rows else "no quarantined rows match")
