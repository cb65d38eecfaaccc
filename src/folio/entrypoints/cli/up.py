"""``folio up``: the whole platform in the foreground (what ``make run`` calls)."""

from __future__ import annotations

import functools
import os

import click
from rich.table import Table

from folio.clikit import CliContext, examples, pass_cli
from folio.clikit.progress import RichReporter
from folio.core.settings import Settings, record_platform
from folio.entrypoints.cli.services import one_line, report_adopted, warn_about_ports
from folio.ops.apps import folio_processes
from folio.ops.manager import ServiceManager
from folio.ops.ports import ephemeral_range, ephemeral_warnings
from folio.ops.process import ProcessError, stop
from folio.ops.supervisor import Supervisor


def _child_env(cli: CliContext, *, lite: bool) -> dict[str, str]:
    """Settings ``folio up`` hands its processes, unless the environment already sets them."""
    chosen = {
        "FOLIO_DATABASE_BACKEND": "sqlite" if lite else "postgres",
        "FOLIO_CACHE_BACKEND": "memory" if lite else "redis",
        "FOLIO_LOGGING_SHIP_TO_SEARCH": "false" if lite else "true",
    }
    if cli.config_file is not None:
        chosen["FOLIO_CONFIG_FILE"] = str(cli.config_file.absolute())
    return {key: value for key, value in chosen.items() if key not in os.environ}


def _children_settings(cli: CliContext, env: dict[str, str]) -> Settings:
    """This command's settings with the database backend the started processes will use (``env``)."""
    settings = cli.settings
    backend = env.get("FOLIO_DATABASE_BACKEND", settings.database.backend)
    database = settings.database.model_copy(update={"backend": backend})
    return settings.model_copy(update={"database": database})


def _children_migration_url(cli: CliContext, env: dict[str, str]) -> str:
    """Where to migrate the children's database: its migration URL (the owner role on PostgreSQL)."""
    return _children_settings(cli, env).database_migration_url


@click.command(
    "up",
    epilog=examples(
        "folio up            servers + Folio, stops everything it started on Ctrl-C",
        "folio up --lite     SQLite and in-process engines only, no server started",
    ),
)
@click.option("--lite", is_flag=True, help="Embedded mode: SQLite, no servers.")
@pass_cli
def up_command(cli: CliContext, lite: bool) -> None:
    """Install what is missing, start the servers and Folio's processes, print the URLs.

    Runs in the foreground and restarts a crashed process (per its restart policy);
    Ctrl-C or SIGTERM stops, in reverse order, everything this command started and
    leaves alone servers that were already running.
    """
    from folio.core import migrations

    env = _child_env(cli, lite=lite)
    # Before the settings load, so this command and every later one here read the new record.
    record_platform({**os.environ, **env}, mode="lite" if lite else "full")
    settings = cli.settings
    manager = ServiceManager(settings)
    # As many processes start at once as there are cores (``Supervisor`` says why that is safe).
    supervisor = Supervisor(specs=[], start_concurrency=os.cpu_count() or 1)
    supervisor.install_signal_handlers()
    gateway_port = {"gateway.port": settings.gateway.port}
    warn_about_ports(
        cli,
        ephemeral_warnings(gateway_port, ephemeral_range()) + ([] if lite else manager.port_warnings()),
    )
    try:
        with RichReporter(cli.errors) as reporter:
            if not lite:
                manager.reporter = reporter
                started = manager.up()
                supervisor.cleanup.extend(functools.partial(stop, spec) for spec in started)
            report_adopted(cli, manager)
            migrations.upgrade(_children_migration_url(cli, env))
            supervisor.specs = folio_processes(settings, env, lite=lite)
            supervisor.start()
    except (ProcessError, migrations.MigrationRoleError) as exc:
        supervisor.shutdown()
        if not supervisor.specs:  # the servers failed: say which ones were not ours to stop
            report_adopted(cli, manager)
        cli.fail(one_line(exc))
    except BaseException:
        # Whatever else went wrong, nothing this command started may outlive it.
        supervisor.shutdown()
        raise
    _print_urls(cli, manager, lite=lite)
    supervisor.run_forever()
    cli.console.print("stopped everything folio up started")


def _print_urls(cli: CliContext, manager: ServiceManager, *, lite: bool) -> None:
    gateway = cli.settings.gateway.url
    table = Table(title="Folio is up" + (" (lite)" if lite else ""), show_header=True)
    table.add_column("what")
    table.add_column("where", overflow="fold")
    table.add_row("web app", f"{gateway}/app/")
    table.add_row("API docs", f"{gateway}/docs")
    table.add_row("health", f"{gateway}/healthz")
    table.add_row("readiness", f"{gateway}/readyz")
    table.add_row("metrics", f"{gateway}/metrics")
    if not lite:
        table.add_row("server data", str(cli.settings.services.data_dir.absolute()))
    for service in manager.select():
        if lite:
            table.add_row(service.name, "[dim]off in lite mode[/]")
            continue
        for name, url in service.endpoints().items():
            table.add_row(f"{service.name} {name}", url)
    cli.console.print(table)
    cli.console.print("Ctrl-C stops everything this command started.", style="dim")
