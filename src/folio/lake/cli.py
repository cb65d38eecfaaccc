"""``folio lake``: SQL over the lake, its tables and manifests, compaction, day aggregates, generated volume.

Each command takes the platform's lake (``LAKE``) and runs its blocking work in a
thread (``asyncio.to_thread``). pyarrow and DuckDB load inside the commands only:
``folio --help`` and every other command never pay for them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.markup import escape
from rich.table import Table

from folio.clikit import CliContext, examples, pass_cli, run_on_platform

if TYPE_CHECKING:
    import pyarrow as pa

    from folio.core.platform import Platform
    from folio.lake.lake import CompactReport, Lake

__all__ = ["lake_group"]

T = TypeVar("T")


def _on_lake(cli: CliContext, work: Callable[[Lake], T]) -> T:
    """Run the blocking ``work`` on the platform's lake, in a worker thread."""
    from folio.lake.api import LAKE

    async def run(platform: Platform) -> T:
        return await asyncio.to_thread(work, platform.get(LAKE))

    return run_on_platform(cli, run)


def _print_rows(cli: CliContext, rows: pa.Table, output: str, title: str | None = None) -> None:
    """``rows`` as a rich table, CSV or JSON Lines on stdout."""
    if output == "csv":
        import pyarrow.csv as pacsv

        sink = _StdoutBytes()
        pacsv.write_csv(rows, sink)
        return
    records = rows.to_pylist()
    if output == "json":
        for record in records:
            click.echo(json.dumps(record, default=_jsonable, ensure_ascii=False))
        return
    table = Table(title=title)
    for name in rows.column_names:
        table.add_column(name, overflow="fold")
    for record in records:
        table.add_row(*(escape("" if value is None else str(value)) for value in record.values()))
    cli.console.print(table)
    cli.console.print(f"{rows.num_rows} row(s)")


class _StdoutBytes:
    """A binary sink on stdout for pyarrow's CSV writer."""

    def write(self, data: bytes) -> int:
        """Write the bytes through."""
        sys.stdout.buffer.write(data)
        return len(data)

    def flush(self) -> None:
        """Flush stdout."""
        sys.stdout.buffer.flush()

    @property
    def closed(self) -> bool:
        """Never closed: stdout stays open."""
        return False


def _jsonable(value: object) -> Any:
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


output_option = click.option(
    "--output",
    "-o",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="A table for people, CSV, or JSON Lines (one object per row).",
)


@click.group("lake")
def lake_group() -> None:
    """The data lake: partitioned Parquet on the object store (a folder in lite mode), SQL with DuckDB."""


@lake_group.command(
    "query",
    epilog=examples(
        'folio lake query "SELECT * FROM revenue_by_shop_day ORDER BY date DESC LIMIT 10"',
        'folio lake query -o csv "SELECT * FROM best_sellers ORDER BY units DESC LIMIT 20" > best.csv',
        "folio lake query --explain \"SELECT count(*) FROM order_events WHERE date = DATE '2026-12-01'\"",
        'folio lake query --as-of 3 "SELECT count(*) FROM book_crossing_ratings_delta"',
        'folio lake query --as-of 2026-12-04T10:00:00Z "SELECT ..."   # every Delta table as it was then',
    ),
)
@click.argument("sql")
@output_option
@click.option(
    "--explain",
    is_flag=True,
    help="Run it and print DuckDB's analysed plan instead: per scan, the files read of all.",
)
@click.option(
    "--as-of",
    "as_of",
    multiple=True,
    metavar="[TABLE=]VERSION|TIME",
    help="Time travel: read Delta tables at a version number or an ISO time (UTC when no offset); "
    "TABLE= for one table, else every Delta table. Repeatable.",
)
@pass_cli
def query_command(cli: CliContext, sql: str, output: str, explain: bool, as_of: tuple[str, ...]) -> None:
    """Run SQL over the lake: every table is a view, and the analyst's views are ready."""
    if explain:
        if as_of:
            raise click.UsageError("--explain reads the latest versions: leave out --as-of")
        click.echo(_on_lake(cli, lambda lake: lake.explain(sql, analyze=True)))
        return

    def work(lake: Lake) -> pa.Table:
        return lake.query(sql, as_of=_as_of_map(as_of, lake.delta_tables()))

    _print_rows(cli, _on_lake(cli, work), output)


def _as_of_value(text: str) -> int | dt.datetime:
    """A version number or an ISO time (UTC when it has no offset), from ``--as-of``."""
    if text.isdigit():
        return int(text)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        message = f"{text!r} is neither a version number nor an ISO time"
        raise click.BadParameter(message, param_hint="--as-of") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _as_of_map(values: tuple[str, ...], delta_tables: list[str]) -> dict[str, int | dt.datetime]:
    """``--as-of`` values as ``Lake.query``'s mapping: ``TABLE=`` for one table, else every Delta table."""
    chosen: dict[str, int | dt.datetime] = {}
    for value in values:
        table, _, when = value.rpartition("=") if "=" in value else ("", "", value)
        for name in [table] if table else delta_tables:
            chosen[name] = _as_of_value(when)
    if values and not chosen:
        raise click.UsageError("--as-of: the lake has no Delta table to travel in")
    return chosen


@lake_group.command("tables", epilog=examples("folio lake tables"))
@pass_cli
def tables_command(cli: CliContext) -> None:
    """The lake's tables: rows, files, partitions, schema version, last change; then the ready views."""
    from folio.lake.api import VIEWS

    def work(lake: Lake) -> list[Any]:
        return [lake.manifest(name) for name in lake.tables() if name not in lake.delta_tables()]

    manifests, delta = _on_lake(cli, lambda lake: (work(lake), _delta_rows(lake)))
    table = Table(title="Lake tables")
    for column in ("table", "rows", "files", "partitions", "schema", "updated (UTC)", "description"):
        table.add_column(column, overflow="fold")
    for manifest in manifests:
        table.add_row(
            manifest.table,
            f"{manifest.rows:,}",
            str(len(manifest.files)),
            str(len(manifest.partitions)),
            f"v{manifest.schema_version}",
            manifest.updated_at[:19].replace("T", " "),
            escape(manifest.description),
        )
    cli.console.print(table if manifests or delta else "the lake has no table yet")
    if delta:
        versions = Table(title="Delta tables")
        for column in ("table", "rows", "version", "last commit (UTC)", "operation"):
            versions.add_column(column)
        for row in delta:
            versions.add_row(*row)
        cli.console.print(versions)
    present = {manifest.table for manifest in manifests}
    for view in VIEWS:
        if all(name in present for name in view.reads):
            cli.console.print(f"view [bold]{view.name}[/]: {escape(view.description)}")


def _delta_rows(lake: Lake) -> list[tuple[str, ...]]:
    """Per Delta table: name, rows, latest version, its time and operation."""
    rows: list[tuple[str, ...]] = []
    for name in lake.delta_tables():
        latest = lake.delta_history(name, limit=1)[0]
        count = lake.query(f'SELECT count(*) AS n FROM "{name}"').column("n")[0].as_py()  # noqa: S608
        committed = latest.committed_at.isoformat(sep=" ", timespec="seconds")[:19]
        rows.append((name, f"{count:,}", str(latest.version), committed, latest.operation))
    return rows


@lake_group.command(
    "manifest", epilog=examples("folio lake manifest order_events", "folio lake manifest sales --json")
)
@click.argument("table")
@click.option("--json", "as_json", is_flag=True, help="The manifest as stored (JSON), every file and column.")
@pass_cli
def manifest_command(cli: CliContext, table: str, as_json: bool) -> None:
    """A table's manifest: its files with rows, bytes, sha256 and where they came from."""
    manifest = _on_lake(cli, lambda lake: lake.manifest(table))
    if as_json:
        click.echo(manifest.to_json().decode())
        return
    cli.console.print(
        f"{manifest.table}: {manifest.rows:,} rows in {len(manifest.files)} file(s), "
        f"{len(manifest.partitions)} partition(s), schema v{manifest.schema_version}, "
        f"revision {manifest.revision}"
    )
    listing = Table()
    for column in ("partition", "rows", "bytes", "row groups", "sha256", "source"):
        listing.add_column(column, overflow="fold")
    for entry in manifest.files:
        listing.add_row(
            escape(entry.partition),
            f"{entry.rows:,}",
            f"{entry.bytes:,}",
            str(entry.row_groups),
            entry.sha256[:16],
            escape(entry.source or "-"),
        )
    cli.console.print(listing)


@lake_group.command(
    "compact",
    epilog=examples(
        "folio lake compact order_events",
        "folio lake compact order_events -p date=2026-12-01/shop_id=…",
        "folio lake compact order_events order_lines --date 2026-12-01 --json   # one day of both",
    ),
)
@click.argument("tables", nargs=-1, required=True)
@click.option("--partition", "-p", "partitions", multiple=True, help="Only this partition (repeatable).")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Only the partitions of this day (date=D/...); a table the lake does not have yet is skipped.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object: per table, files merged, rows and (with --date) the day's files after it.",
)
@pass_cli
def compact_command(
    cli: CliContext,
    tables: tuple[str, ...],
    partitions: tuple[str, ...],
    day: dt.datetime | None,
    as_json: bool,
) -> None:
    """Merge each partition's small files into one; rows and checksums verified, old files removed last."""
    if day is not None and partitions:
        raise click.UsageError("--date chooses the partitions: leave out --partition")

    def work(lake: Lake) -> dict[str, tuple[CompactReport | None, list[str]]]:
        from folio.lake.api import CompactReport

        reports: dict[str, tuple[CompactReport | None, list[str]]] = {}
        for table in tables:
            if day is None:
                reports[table] = (lake.compact(table, partitions=partitions), [])
                continue
            if table not in lake.tables():
                reports[table] = (None, [])
                continue
            prefix = f"date={day.date().isoformat()}/"
            chosen = tuple(name for name in lake.manifest(table).partitions if name.startswith(prefix))
            report = (
                lake.compact(table, partitions=chosen)
                if chosen
                else CompactReport(table, (), 0, 0, lake.manifest(table).rows, ())
            )
            day_files = [
                entry.path
                for entry in lake.manifest(table).files
                if entry.path.startswith(f"{table}/{prefix}")
            ]
            reports[table] = (report, day_files)
        return reports

    reports = _on_lake(cli, work)
    if as_json:
        body = {
            table: {"present": False}
            if report is None
            else {
                "present": True,
                "partitions": list(report.partitions),
                "files_before": report.files_before,
                "files_after": report.files_after,
                "rows": report.rows,
                "day_files": day_files,
            }
            for table, (report, day_files) in reports.items()
        }
        click.echo(json.dumps(body))
        return
    for table, (report, _) in reports.items():
        _print_compaction(cli, table, report)


def _print_compaction(cli: CliContext, table: str, report: CompactReport | None) -> None:
    """One table's compaction, for people."""
    if report is None:
        cli.console.print(f"{table}: the lake has no such table yet, nothing to compact")
        return
    if not report.partitions:
        cli.console.print(f"{table}: nothing to compact ({report.rows:,} rows)")
        return
    if not report.removed and report.files_before:
        cli.console.print(
            f"{table} (Delta): {report.files_before} file(s) in {len(report.partitions)} partition(s) "
            f"merged into {report.files_after} in one commit; {report.rows:,} rows; the old files stay "
            "for time travel until `folio lake vacuum`"
        )
        return
    cli.console.print(
        f"{table}: {report.files_before} file(s) in {len(report.partitions)} partition(s) merged into "
        f"{report.files_after}; {report.rows:,} rows, {len(report.removed)} old file(s) removed"
    )


@lake_group.command(
    "aggregate",
    epilog=examples(
        "folio lake aggregate --date 2026-12-03",
        "folio lake aggregate --date 2026-12-03 --shop 3f0c... --json   # one shop's day, as JSON",
    ),
)
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), required=True, help="The UTC day to build.")
@click.option("--shop", "shops", multiple=True, help="Only this shop (repeatable); default: every shop.")
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
@pass_cli
def aggregate_command(cli: CliContext, day: dt.datetime, shops: tuple[str, ...], as_json: bool) -> None:
    """Build a day of shop_daily_sales, work_daily_sales and shop_daily_funnel, replacing that day."""
    from folio.lake.aggregates import aggregate_day

    report = _on_lake(cli, lambda lake: aggregate_day(lake, day.date(), shops=shops))
    if as_json:
        tables = {
            name: {"rows": rows, "replaced_rows": report.replaced_rows[name]}
            for name, rows in report.rows.items()
        }
        body = {
            "date": report.date.isoformat(),
            "events": report.events,
            "shops": list(shops),
            "tables": tables,
        }
        click.echo(json.dumps(body))
        return
    if not report.events:
        cli.console.print(f"no order events on {report.date}: the day's aggregates are empty")
    for name, rows in report.rows.items():
        cli.console.print(
            f"{name}: {rows:,} row(s) for {report.date} (replaced {report.replaced_rows[name]:,})"
        )


@lake_group.command(
    "history", epilog=examples("folio lake history book_crossing_ratings_delta", "folio lake history t -n 5")
)
@click.argument("table")
@click.option("--limit", "-n", type=click.IntRange(1), default=None, help="Only the newest N commits.")
@pass_cli
def history_command(cli: CliContext, table: str, limit: int | None) -> None:
    """A Delta table's commits, newest first: version, time, operation, rows, schema version, source."""
    history = _on_lake(cli, lambda lake: lake.delta_history(table, limit=limit))
    listing = Table(title=f"{table} (Delta)")
    for column in ("version", "committed (UTC)", "operation", "rows added", "schema", "source"):
        listing.add_column(column, overflow="fold")
    for entry in history:
        listing.add_row(
            str(entry.version),
            entry.committed_at.isoformat(sep=" ", timespec="milliseconds")[:23],
            entry.operation,
            "-" if entry.rows_added is None else f"{entry.rows_added:,}",
            "-" if entry.schema_version is None else f"v{entry.schema_version}",
            escape(entry.source or "-"),
        )
    cli.console.print(listing)


@lake_group.command(
    "vacuum",
    epilog=examples(
        "folio lake vacuum book_crossing_ratings_delta --dry-run",
        "folio lake vacuum book_crossing_ratings_delta --retain-hours 0   # no time travel before now",
    ),
)
@click.argument("table")
@click.option(
    "--retain-hours",
    type=click.IntRange(0),
    default=168,
    show_default=True,
    help="Keep the files versions younger than this still read (time travel reaches that far back).",
)
@click.option("--dry-run", is_flag=True, help="List the files that would be deleted; delete nothing.")
@pass_cli
def vacuum_command(cli: CliContext, table: str, retain_hours: int, dry_run: bool) -> None:
    """Delete the files of a Delta table that no version within the retention reads."""
    paths = _on_lake(
        cli, lambda lake: lake.delta_vacuum(table, retention_hours=retain_hours, dry_run=dry_run)
    )
    for path in paths:
        click.echo(path)
    verb = "would delete" if dry_run else "deleted"
    cli.console.print(f"{table}: {verb} {len(paths)} file(s) older than {retain_hours} h")


@lake_group.group("load")
def load_group() -> None:
    """Public data sets into the lake (fetch them first with `folio data fetch`)."""


@load_group.command(
    "book-crossing",
    epilog=examples(
        "folio data fetch book-crossing && folio lake load book-crossing",
        "folio lake load book-crossing --limit 1000 --load-date 2026-12-01",
    ),
)
@click.option(
    "--limit", type=click.IntRange(1), default=None, help="Only the file's first N lines (a sample)."
)
@click.option(
    "--load-date",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The snapshot's day (partition load_date); default: today (UTC).",
)
@pass_cli
def load_book_crossing_command(cli: CliContext, limit: int | None, load_date: dt.datetime | None) -> None:
    """The Book-Crossing ratings (real data, 1,149,780 lines) into book_crossing_ratings, one load a day."""
    from folio.lake.loads import load_book_crossing_ratings

    day = load_date.date() if load_date else dt.datetime.now(dt.UTC).date()
    loaded = _on_lake(
        cli, lambda lake: load_book_crossing_ratings(lake, cli.data_dir, load_date=day, limit=limit)
    )
    cli.console.print(
        f"book_crossing_ratings: {loaded.report.rows:,} ratings loaded as load_date={day} "
        f"in {len(loaded.report.files)} file(s); {loaded.refused:,} line(s) refused"
        + (f" (lines {', '.join(map(str, loaded.refused_lines))})" if loaded.refused else "")
    )


@lake_group.group("generate")
def generate_group() -> None:
    """GENERATED data for volume (benchmarks, demos): synthetic, and labelled so in the manifest."""


@generate_group.command(
    "orders",
    epilog=examples(
        "folio lake generate orders --rows 1000000", "folio lake generate orders --rows 10000000 --days 60"
    ),
)
@click.option(
    "--rows",
    type=click.IntRange(1, 100_000_000),
    default=1_000_000,
    show_default=True,
    help="About how many order events.",
)
@click.option(
    "--shops", type=click.IntRange(1, 10_000), default=20, show_default=True, help="Generated shops."
)
@click.option(
    "--days", type=click.IntRange(1, 3650), default=30, show_default=True, help="Days, ending today (UTC)."
)
@click.option("--seed", type=int, default=13, show_default=True, help="The same seed makes the same rows.")
@pass_cli
def generate_orders_command(cli: CliContext, rows: int, shops: int, days: int, seed: int) -> None:
    """Append GENERATED order events and lines (source `generated:orders`) to order_events and order_lines."""
    from folio.lake.generate import GENERATED_SOURCE, generated_orders
    from folio.lake.order_tables import order_events_table, order_lines_table

    def work(lake: Lake) -> tuple[int, int, int]:
        events, lines = generated_orders(rows, shops=shops, days=days, seed=seed)
        written = lake.append(order_events_table(), events, source=GENERATED_SOURCE)
        placed = lake.append(order_lines_table(), lines, source=GENERATED_SOURCE)
        return written.rows, placed.rows, len(written.files) + len(placed.files)

    events, lines, files = _on_lake(cli, work)
    cli.console.print(f"GENERATED {events:,} order events and {lines:,} order lines in {files} file(s)")
