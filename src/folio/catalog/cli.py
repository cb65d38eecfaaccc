"""The catalog context's command-line adapter, ``folio catalog``: imports, previews, import runs, curation.

It imports works from the fetched data sets, makes sample-chapter previews, shows
import runs and the quarantine, and gives the platform curator ``folio catalog works``.

Heavy modules (the catalog context, SQLAlchemy, fpdf2, boto3) are imported inside the
commands so ``folio --help`` stays fast.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import click

from folio.clikit import CliContext, examples, pass_cli, run_on_platform

if TYPE_CHECKING:
    from folio.catalog.api import (
        ImportRunRead,
        JunkWork,
        PreviewReport,
        QuarantinedRowRead,
        RemovalReport,
        WorkRead,
    )
    from folio.core.platform import Platform

__all__ = ["catalog_group"]

SOURCE_NAMES = ("book-crossing", "shakespeare-texts", "austen-novels", "bible-kjv", "devils-dictionary")


@click.group("catalog")
def catalog_group() -> None:
    """The shared catalogue of works: imports, quarantine, previews, curation."""


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
    epilog=examples(
        "folio data fetch book-crossing && folio catalog import book-crossing",
        "folio catalog import shakespeare-texts --previews",
        "folio catalog import book-crossing --limit 5000",
    ),
)
@click.argument("source", type=click.Choice(SOURCE_NAMES))
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many input rows.")
@click.option("--batch-size", type=click.IntRange(1, 5000), default=1000, show_default=True)
@click.option("--previews", is_flag=True, help="Also make sample-chapter PDFs (public-domain texts).")
@pass_cli
def import_command(cli: CliContext, source: str, limit: int | None, batch_size: int, previews: bool) -> None:
    """Import (upsert) the works of a fetched data set; refused rows go to the quarantine."""
    from folio.catalog.api import PUBLIC_DOMAIN_SOURCES, import_source, run_previews

    data_dir = cli.data_dir
    if not (data_dir / source).exists():
        cli.fail(f"{source} is not fetched; run `folio data fetch {source}` first")
    if previews and source not in PUBLIC_DOMAIN_SOURCES:
        cli.fail("--previews is for public-domain texts only")
    started = time.perf_counter()

    async def work(platform: Platform) -> tuple[ImportRunRead, PreviewReport | None]:
        db = platform.database
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
                db, platform.object_store, source=source, data_dir=data_dir, limit=limit
            )
        return run, report

    run, report = run_on_platform(cli, work)
    _print_run(cli, run, time.perf_counter() - started)
    if report is not None:
        cli.console.print(
            f"previews: {report.generated} made, {report.unchanged} unchanged, "
            f"{report.missing_work} texts without a work"
        )


@catalog_group.command(
    "previews",
    epilog=examples(
        "folio catalog previews --source austen-novels",
        "folio catalog previews --limit 5",
        "folio catalog previews --export .folio/previews && folio pdf index .folio/previews",
    ),
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

    if export_dir is not None:
        target = export_dir

        async def export(platform: Platform) -> int:
            return await export_previews(platform.database, platform.object_store, target=target)

        cli.console.print(f"exported {run_on_platform(cli, export)} previews to {target}")
        return
    data_dir = cli.data_dir
    sources = [name for name in (source or SOURCE_NAMES[1:]) if (data_dir / name).exists()]
    if not sources:
        cli.fail("none of the public-domain sources is fetched; run `folio data fetch <source>` first")

    async def work(platform: Platform) -> dict[str, PreviewReport]:
        return {
            name: await run_previews(
                platform.database, platform.object_store, source=name, data_dir=data_dir, limit=limit
            )
            for name in sources
        }

    for name, report in run_on_platform(cli, work).items():
        cli.console.print(
            f"{name}: {report.generated} made, {report.unchanged} unchanged, "
            f"{report.missing_work} without a work"
        )


@catalog_group.command(
    "snapshot-to-lake",
    epilog=examples("folio catalog snapshot-to-lake --shop 3f0c...  --shop 9a1b...   # today's snapshot"),
)
@click.option(
    "--shop",
    "shops",
    type=click.UUID,
    multiple=True,
    required=True,
    help="A shop to snapshot (repeatable); the daily flow passes every shop `folio tenants list` knows.",
)
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
@pass_cli
def snapshot_to_lake_command(cli: CliContext, shops: tuple[uuid.UUID, ...], as_json: bool) -> None:
    """The shops' listings, with their works, into catalog_listings as of now; a re-run replaces today."""
    from folio.catalog.api import CatalogSnapshot, snapshot_catalog_to_lake
    from folio.lake.api import LAKE

    async def work(platform: Platform) -> CatalogSnapshot:
        return await snapshot_catalog_to_lake(platform.database, platform.get(LAKE), shops=shops)

    snapshot = run_on_platform(cli, work)
    total = sum(snapshot.rows_by_shop.values())
    if as_json:
        body = {
            "snapshot_date": snapshot.snapshot_date.isoformat(),
            "rows": total,
            "rows_by_shop": {str(shop): rows for shop, rows in snapshot.rows_by_shop.items()},
            "replaced_rows": sum(snapshot.replaced_rows.values()),
        }
        click.echo(json.dumps(body))
        return
    for shop in shops:
        replaced = snapshot.replaced_rows.get(shop, 0)
        again = f", replacing {replaced:,} from an earlier run today" if replaced else ""
        cli.console.print(f"{shop}: {snapshot.rows_by_shop.get(shop, 0):,} listing(s){again}")
    cli.console.print(f"catalog_listings: {total:,} row(s) as of {snapshot.snapshot_date}")


@catalog_group.command(
    "import-runs",
    epilog=examples("folio catalog import-runs --limit 5"),
)
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True)
@pass_cli
def import_runs_command(cli: CliContext, limit: int) -> None:
    """The latest import runs and their counts."""
    from rich.table import Table

    from folio.catalog.api import list_import_runs

    async def work(platform: Platform) -> list[ImportRunRead]:
        return await list_import_runs(platform.database, limit=limit)

    runs = run_on_platform(cli, work)
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
    epilog=examples(
        "folio catalog quarantine                       the latest refused rows",
        "folio catalog quarantine --reason invalid-isbn --limit 20",
    ),
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

    async def work(platform: Platform) -> list[QuarantinedRowRead]:
        return await list_quarantine(platform.database, run_id=run_id, reason=reason, limit=limit)

    rows = run_on_platform(cli, work)
    table = Table("line", "reason", "detail", "raw")
    for row in rows:
        table.add_row(str(row.line_no), row.reason, row.detail[:60], row.raw[:80])
    cli.console.print(table if rows else "no quarantined rows match")


@catalog_group.group("works")
def works_group() -> None:
    """The platform curator's commands: publish works to every shop, find and remove junk.

    Run by the operator, who is the curator: no shop role can publish a work.
    """


def _operator() -> str:
    """Who runs the command, for the log of what the curator did."""
    import getpass

    return getpass.getuser()


def _shown(text: str) -> str:
    """``text`` safe for a terminal: refused characters (a junk title may hold ESC) and markup escaped."""
    from rich.markup import escape

    from folio.core.text import find_invalid_character

    shown = "".join(
        f"\\x{ord(character):02x}" if find_invalid_character(character) else character for character in text
    )
    return escape(shown[:80])


def _publishing_command(name: str, *, published: bool, summary: str) -> click.Command:
    """``folio catalog works NAME WORK_ID``: set the work's ``published`` flag, print its new state.

    An unknown work is a ``NotFoundError``, one line through the root group.
    """

    @works_group.command(
        name,
        help=summary,
        epilog=examples(f"folio catalog works {name} 1b4e28ba-2fa1-11d2-883f-0016d3cca427"),
    )
    @click.argument("work_id", type=click.UUID)
    @pass_cli
    def command(cli: CliContext, work_id: uuid.UUID) -> None:
        from folio.catalog.api import set_work_published

        async def work(platform: Platform) -> WorkRead:
            return await set_work_published(
                platform.database, work_id=work_id, published=published, operator=_operator()
            )

        changed = run_on_platform(cli, work)
        state = "published: every shop sees it" if changed.published else "unpublished"
        cli.console.print(f"work {changed.id} {_shown(changed.title)!s}: {state}")

    return command


publish_command = _publishing_command(
    "publish",
    published=True,
    summary='Share a work with every shop (it is indexed for everyone\'s "All works" search).',
)
unpublish_command = _publishing_command(
    "unpublish",
    published=False,
    summary="Take a work back from the shared catalogue (only the shop that made it still sees it).",
)


@works_group.command(
    "junk",
    epilog=examples(
        "folio catalog works junk                      list the junk, change nothing",
        "folio catalog works junk --source manual      only works created over the API",
        "folio catalog works junk --remove --dry-run   say what --remove would delete",
        "folio catalog works junk --remove             delete the unlisted junk (and its search documents)",
    ),
)
@click.option("--source", help="Only works of this source (`manual`: created over the API).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many works.")
@click.option("--remove", is_flag=True, help="Delete the junk no shop lists; listed works are kept.")
@click.option("--dry-run", is_flag=True, help="With --remove: show what would be removed, remove nothing.")
@pass_cli
def junk_command(cli: CliContext, source: str | None, limit: int | None, remove: bool, dry_run: bool) -> None:
    """Find works with control characters, unrepairable mojibake or no letters; --remove removes them.

    Each removal writes a search-index delete through the outbox and is logged with
    the operator's name (and audited in the owning shop, if the work has one).
    """
    from folio.catalog.api import find_junk_works, remove_works

    async def work(platform: Platform) -> RemovalReport | None:
        junk = await find_junk_works(platform.database, source=source, limit=limit)
        _print_junk(cli, junk)
        if not remove or not junk:
            return None
        if dry_run:
            cli.console.print(
                f"dry run: --remove would delete the {len(junk)} works above that no shop lists"
            )
            return None
        return await remove_works(platform.database, [item.id for item in junk], operator=_operator())

    report = run_on_platform(cli, work)
    if report is not None:
        cli.console.print(
            f"removed {len(report.removed)} works (their search documents go through the outbox); "
            f"kept {len(report.listed)} that a shop lists"
            + (f"; {len(report.missing)} were already gone" if report.missing else "")
        )


def _print_junk(cli: CliContext, junk: list[JunkWork]) -> None:
    """The junk as a table, then how many works each reason caught."""
    from rich.table import Table

    from folio.catalog.api import JUNK_REASONS

    table = Table("work", "source", "published", "created (UTC)", "reasons", "title", title="junk works")
    for item in junk:
        table.add_row(
            str(item.id),
            item.source,
            "yes" if item.published else "no",
            f"{item.created_at:%Y-%m-%d %H:%M}",
            ", ".join(item.reasons),
            _shown(item.title),
        )
    cli.console.print(table if junk else "no junk works found")
    if junk:
        counts = {reason: sum(reason in item.reasons for item in junk) for reason in JUNK_REASONS}
        cli.console.print(
            f"{len(junk)} junk works: " + ", ".join(f"{reason} {count}" for reason, count in counts.items())
        )
