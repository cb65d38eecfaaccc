"""``folio db``: the database's migrations; and ``folio tenants migrate``, schema then every shop's data.

Alembic and SQLAlchemy are imported inside the commands: `folio --help` stays fast.
Schema migrations connect with ``Settings.database_migration_url``: on PostgreSQL the
role that owns the tables, never the application role (which must own nothing, or it
could switch row-level security off). A wrong role (``MigrationRoleError``) or a
database down ends the command with one line, through the root group.

``folio tenants migrate`` lives here, not in a context: it runs every context's data
migrations (``folio.bootstrap.data_migrations``), which only the platform knows;
``folio.entrypoints.cli`` mounts it in the ``tenants`` group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from folio.clikit import CliContext, examples, pass_cli, run_on_platform

if TYPE_CHECKING:
    from folio.core.data_migrations import MigrationOutcome, PendingWork, TenantTarget
    from folio.core.platform import Platform


@click.group("db")
def db_group() -> None:
    """Migrate and inspect the database (SQLite or PostgreSQL, per settings)."""


def _migrate(cli: CliContext, move: Callable[[str, str], None], revision: str) -> None:
    """Run ``move(url, revision)`` on the migration URL and print where the database ends up."""
    from folio.core import migrations

    url = cli.settings.database_migration_url
    move(url, revision)
    cli.console.print(f"database at [bold]{migrations.current_revision_sync(url) or 'base'}[/]")


@db_group.command("upgrade", epilog=examples("folio db upgrade", "folio db upgrade 0001_baseline"))
@click.argument("revision", default="head")
@pass_cli
def upgrade_command(cli: CliContext, revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    from folio.core import migrations

    _migrate(cli, migrations.upgrade, revision)


@db_group.command("downgrade", epilog=examples("folio db downgrade base"))
@click.argument("revision")
@pass_cli
def downgrade_command(cli: CliContext, revision: str) -> None:
    """Migrate the database down to REVISION (`base` empties it)."""
    from folio.core import migrations

    _migrate(cli, migrations.downgrade, revision)


@db_group.command("current", epilog=examples("folio db current"))
@pass_cli
def current_command(cli: CliContext) -> None:
    """Print the revision the database is at, and whether it is the newest."""
    from folio.core import migrations

    current = migrations.current_revision_sync(cli.settings.database_migration_url)
    head = migrations.head_revision()
    state = "up to date" if current == head else f"behind (newest is {head}); run `folio db upgrade`"
    cli.console.print(f"{current or 'base (never migrated)'}: {state}")


@db_group.command("history", epilog=examples("folio db history"))
@pass_cli
def history_command(cli: CliContext) -> None:
    """List the packaged migrations, newest first."""
    from folio.core import migrations

    for rev in migrations.history():
        head = " (head)" if rev.is_head else ""
        cli.console.print(f"{rev.down_revision or 'base'} -> [bold]{rev.revision}[/]{head}: {rev.doc}")


@click.command(
    "migrate",
    epilog=examples(
        "folio tenants migrate --dry-run    what would run, for which shops",
        "folio tenants migrate              schema to head, then every pending data migration",
        "folio tenants migrate --shop riverside-books",
    ),
)
@click.option("--shop", "shop", metavar="SLUG", help="Only this shop (default: every shop).")
@click.option("--dry-run", is_flag=True, help="List the pending work; change nothing.")
@pass_cli
def tenants_migrate_command(cli: CliContext, shop: str | None, dry_run: bool) -> None:
    """Migrate the schema to the newest revision, then apply each pending data migration to each shop.

    Each (migration, shop) commits on its own with its ledger row: after a failure,
    running again resumes with what is left and never applies anything twice.
    """
    # Looked up when the command runs (tests hand it their own data migrations).
    from folio.bootstrap import data_migrations
    from folio.clikit.progress import RichMigrationProgress
    from folio.core import migrations as schema
    from folio.core.data_migrations import TenantTarget, apply_data_migrations, pending_data_migrations
    from folio.identity.api import list_tenants

    settings = cli.settings
    declared = data_migrations()
    if not dry_run:
        schema.upgrade(settings.database_migration_url)
        cli.console.print(f"schema at [bold]{schema.head_revision()}[/]")

    async def targets(platform: Platform) -> list[TenantTarget]:
        if shop is not None:
            return [await cli.resolve_shop(platform, shop)]
        return [TenantTarget(t.id, t.slug) for t in await list_tenants(platform.database)]

    if dry_run:

        async def plan(platform: Platform) -> list[PendingWork]:
            return await pending_data_migrations(
                platform.database, tenants=await targets(platform), migrations=declared
            )

        pending = run_on_platform(cli, plan)
        if not pending:
            cli.console.print(f"nothing to do: {len(declared)} data migration(s), all applied")
        for item in pending:
            shops = ", ".join(t.label for t in item.tenants)
            cli.console.print(
                f"[bold]{item.migration.id}[/]: {item.migration.description}\n"
                f"  pending for {len(item.tenants)} shop(s): {shops}"
            )
        return

    async def apply(platform: Platform) -> list[MigrationOutcome]:
        with RichMigrationProgress(cli.errors) as progress:
            return await apply_data_migrations(
                platform.database, tenants=await targets(platform), migrations=declared, progress=progress
            )

    outcomes = run_on_platform(cli, apply)
    rows = sum(outcome.rows for outcome in outcomes)
    cli.console.print(f"applied {len(outcomes)} data migration run(s), {rows} row(s) touched")
