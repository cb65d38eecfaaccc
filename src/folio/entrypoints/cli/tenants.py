"""``folio tenants``: shops as an operator sees them: quotas, usage, per-shop data migrations.

These commands act for the operator, not for a member of a shop: they take a shop by
its slug (``--shop``) and call the contexts' operator functions, which check no role.
Heavy imports (SQLAlchemy, the contexts) happen inside the commands: `folio --help`
stays fast.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

import click

from folio.entrypoints.cli.context import CliContext, pass_cli

if TYPE_CHECKING:
    from rich.console import Console

    from folio.core.data_migrations import DataMigration, TenantTarget
    from folio.core.db import Database

T = TypeVar("T")

METERS = ("tasks", "members", "api_calls", "storage_bytes")
"""``folio.usage.api.Meter``'s values (repeated here so `--help` imports no context)."""


def run_with_database(cli: CliContext, work: Callable[[Database], Awaitable[T]]) -> T:
    """Open the application's database (as the app role), run ``work`` on it, close it.

    Errors propagate: the root group turns the expected ones (a ``FolioError`` such as
    an unknown shop, a database down or never migrated) into one line.
    """
    from folio.core.db import open_database

    settings = cli.settings

    async def main() -> T:
        async with open_database(
            settings.database, settings.database_url, settings.database_replica_url
        ) as database:
            return await work(database)

    return asyncio.run(main())


async def resolve_shop(db: Database, slug: str) -> TenantTarget:
    """The shop called ``slug`` (``NotFoundError`` when there is none)."""
    from folio.core.data_migrations import TenantTarget
    from folio.identity.api import get_tenant_by_slug

    tenant = await get_tenant_by_slug(db, slug)
    return TenantTarget(tenant.id, tenant.slug)


shop_option = click.option("--shop", "shop", required=True, metavar="SLUG", help="The shop, by its slug.")


@click.group("tenants")
def tenants_group() -> None:
    """Operate on shops (tenants): list them, set quotas, read usage, run data migrations."""


@tenants_group.command("list", epilog="\b\nExamples:\n  folio tenants list\n  folio tenants list --json")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
@pass_cli
def list_command(cli: CliContext, as_json: bool) -> None:
    """List every shop, oldest first."""
    from rich.table import Table

    from folio.identity.api import list_tenants

    tenants = run_with_database(cli, list_tenants)
    if as_json:
        for tenant in tenants:
            cli.console.print(tenant.model_dump_json(), soft_wrap=True, markup=False, highlight=False)
        return
    table = Table("slug", "name", "plan", "created", "id")
    for tenant in tenants:
        table.add_row(
            tenant.slug, tenant.name, tenant.plan, f"{tenant.created_at:%Y-%m-%d %H:%M}", str(tenant.id)
        )
    cli.console.print(table)


@tenants_group.group("quota")
def quota_group() -> None:
    """A shop's own quotas, replacing the plan's defaults (`tenancy.quotas`)."""


@quota_group.command(
    "set",
    epilog="""\b
Examples:
  folio tenants quota set --shop riverside-books --meter tasks --limit 50000
  folio tenants quota set --shop riverside-books --meter api_calls --default""",
)
@shop_option
@click.option("--meter", type=click.Choice(METERS), required=True, help="The meter whose quota to set.")
@click.option("--limit", "limit", type=click.IntRange(min=0), help="The shop's new limit.")
@click.option("--default", "use_default", is_flag=True, help="Drop the shop's own limit: the plan's applies.")
@pass_cli
def quota_set_command(cli: CliContext, shop: str, meter: str, limit: int | None, use_default: bool) -> None:
    """Give a shop its own limit for a meter (API calls: per UTC day)."""
    from folio.usage.api import Meter, get_tenant_quotas, set_quota_override

    if (limit is None) == (not use_default):
        cli.fail("give either --limit N or --default")

    async def work(db: Database) -> int:
        tenant = await resolve_shop(db, shop)
        await set_quota_override(db, tenant_id=tenant.id, meter=Meter(meter), limit=limit)
        quotas = await get_tenant_quotas(db, settings=cli.settings, tenant_id=tenant.id)
        return next(q.limit for q in quotas if q.meter == meter)

    effective = run_with_database(cli, work)
    source = "the plan's default" if use_default else "the shop's own"
    cli.console.print(f"{shop}: {meter} quota is now [bold]{effective}[/] ({source})")


@tenants_group.command(
    "usage",
    epilog="""\b
Examples:
  folio tenants usage --shop riverside-books
  folio tenants usage --shop riverside-books --days 7 --json""",
)
@shop_option
@click.option("--days", type=click.IntRange(1, 366), default=30, show_default=True, help="UTC days back.")
@click.option("--json", "as_json", is_flag=True, help="A JSON document instead of tables.")
@pass_cli
def usage_command(cli: CliContext, shop: str, days: int, as_json: bool) -> None:
    """Show a shop's quotas and its usage per meter and UTC day, newest first."""
    from rich.table import Table

    from folio.usage.api import QuotaRead, UsageRead, get_tenant_quotas, get_tenant_usage

    async def work(db: Database) -> tuple[list[QuotaRead], list[UsageRead]]:
        tenant = await resolve_shop(db, shop)
        quotas = await get_tenant_quotas(db, settings=cli.settings, tenant_id=tenant.id)
        return quotas, await get_tenant_usage(db, tenant_id=tenant.id, days=days)

    quotas, usage = run_with_database(cli, work)
    if as_json:
        document = {
            "shop": shop,
            "quotas": [q.model_dump(mode="json") for q in quotas],
            "usage": [u.model_dump(mode="json") for u in usage],
        }
        cli.console.print_json(json.dumps(document))
        return
    limits = Table("meter", "limit", "in use", "source", title=f"{shop}: quotas")
    for quota in quotas:
        in_use = "-" if quota.in_use is None else str(quota.in_use)
        limits.add_row(quota.meter.value, str(quota.limit), in_use, "shop" if quota.overridden else "plan")
    cli.console.print(limits)
    days_table = Table("day", "meter", "quantity", title=f"{shop}: usage, last {days} day(s)")
    for row in usage:
        days_table.add_row(row.day.isoformat(), row.meter.value, str(row.quantity))
    cli.console.print(days_table if usage else f"{shop}: no usage recorded in the last {days} day(s)")


class RichMigrationProgress:
    """Draws one progress bar per data migration, advancing a shop at a time."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rows]} row(s)"),
            TimeElapsedColumn(),
            console=console,
        )
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> RichMigrationProgress:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def begin(self, migration: DataMigration, total: int) -> None:
        """Start the migration's bar."""
        self._tasks[migration.id] = self._progress.add_task(migration.id, total=total, rows=0)

    def advance(self, migration: DataMigration, tenant: TenantTarget, rows: int | None) -> None:
        """One more shop done for the migration."""
        from rich.progress import TaskID

        task = TaskID(self._tasks[migration.id])
        done = self._progress.tasks[task].fields["rows"] + (rows or 0)
        self._progress.update(task, advance=1, rows=done, description=f"{migration.id}: {tenant.label}")


@tenants_group.command(
    "migrate",
    epilog="""\b
Examples:
  folio tenants migrate --dry-run    what would run, for which shops
  folio tenants migrate              schema to head, then every pending data migration
  folio tenants migrate --shop riverside-books""",
)
@click.option("--shop", "shop", metavar="SLUG", help="Only this shop (default: every shop).")
@click.option("--dry-run", is_flag=True, help="List the pending work; change nothing.")
@pass_cli
def migrate_command(cli: CliContext, shop: str | None, dry_run: bool) -> None:
    """Migrate the schema to the newest revision, then apply each pending data migration to each shop.

    Each (migration, shop) commits on its own with its ledger row: after a failure,
    running again resumes with what is left and never applies anything twice.
    """
    from folio.bootstrap import data_migrations
    from folio.core import migrations as schema
    from folio.core.data_migrations import (
        MigrationOutcome,
        PendingWork,
        TenantTarget,
        apply_data_migrations,
        pending_data_migrations,
    )
    from folio.identity.api import list_tenants

    settings = cli.settings
    declared = data_migrations()
    if not dry_run:
        schema.upgrade(settings.database_migration_url)
        cli.console.print(f"schema at [bold]{schema.head_revision()}[/]")

    async def targets(db: Database) -> list[TenantTarget]:
        if shop is not None:
            return [await resolve_shop(db, shop)]
        return [TenantTarget(t.id, t.slug) for t in await list_tenants(db)]

    if dry_run:

        async def plan(db: Database) -> list[PendingWork]:
            return await pending_data_migrations(db, tenants=await targets(db), migrations=declared)

        pending = run_with_database(cli, plan)
        if not pending:
            cli.console.print(f"nothing to do: {len(declared)} data migration(s), all applied")
        for item in pending:
            shops = ", ".join(t.label for t in item.tenants)
            cli.console.print(
                f"[bold]{item.migration.id}[/]: {item.migration.description}\n"
                f"  pending for {len(item.tenants)} shop(s): {shops}"
            )
        return

    async def apply(db: Database) -> list[MigrationOutcome]:
        with RichMigrationProgress(cli.errors) as progress:
            return await apply_data_migrations(
                db, tenants=await targets(db), migrations=declared, progress=progress
            )

    outcomes = run_with_database(cli, apply)
    rows = sum(outcome.rows for outcome in outcomes)
    cli.console.print(f"applied {len(outcomes)} data migration run(s), {rows} row(s) touched")
