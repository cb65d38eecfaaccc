"""``folio db``: the database's migrations.

Alembic and SQLAlchemy are imported inside the commands: `folio --help` stays fast.
Every command connects with ``Settings.database_migration_url``: on PostgreSQL the
role that owns the tables, never the application role (which must own nothing, or it
could switch row-level security off). A wrong role (``MigrationRoleError``) or a
database down ends the command with one line, through the root group.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from folio.entrypoints.cli.context import CliContext, pass_cli


@click.group("db")
def db_group() -> None:
    """Migrate and inspect the database (SQLite or PostgreSQL, per settings)."""


def _migrate(cli: CliContext, move: Callable[[str, str], None], revision: str) -> None:
    """Run ``move(url, revision)`` on the migration URL and print where the database ends up."""
    from folio.core import migrations

    url = cli.settings.database_migration_url
    move(url, revision)
    cli.console.print(f"database at [bold]{migrations.current_revision_sync(url) or 'base'}[/]")


@db_group.command("upgrade", epilog="\b\nExamples:\n  folio db upgrade\n  folio db upgrade 0001_baseline")
@click.argument("revision", default="head")
@pass_cli
def upgrade_command(cli: CliContext, revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    from folio.core import migrations

    _migrate(cli, migrations.upgrade, revision)


@db_group.command("downgrade", epilog="\b\nExamples:\n  folio db downgrade base")
@click.argument("revision")
@pass_cli
def downgrade_command(cli: CliContext, revision: str) -> None:
    """Migrate the database down to REVISION (`base` empties it)."""
    from folio.core import migrations

    _migrate(cli, migrations.downgrade, revision)


@db_group.command("current", epilog="\b\nExamples:\n  folio db current")
@pass_cli
def current_command(cli: CliContext) -> None:
    """Print the revision the database is at, and whether it is the newest."""
    from folio.core import migrations

    current = migrations.current_revision_sync(cli.settings.database_migration_url)
    head = migrations.head_revision()
    state = "up to date" if current == head else f"behind (newest is {head}); run `folio db upgrade`"
    cli.console.print(f"{current or 'base (never migrated)'}: {state}")


@db_group.command("history", epilog="\b\nExamples:\n  folio db history")
@pass_cli
def history_command(cli: CliContext) -> None:
    """List the packaged migrations, newest first."""
    from folio.core import migrations

    for rev in migrations.history():
        head = " (head)" if rev.is_head else ""
        cli.console.print(f"{rev.down_revision or 'base'} -> [bold]{rev.revision}[/]{head}: {rev.doc}")
