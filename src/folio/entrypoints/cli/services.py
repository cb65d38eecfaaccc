"""``folio services``: the real servers on 127.0.0.1."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from folio.clikit import CliContext, examples, pass_cli
from folio.clikit.failures import Failure
from folio.clikit.progress import RichReporter
from folio.ops.manager import ServiceManager, State, UnknownServiceError
from folio.ops.process import ProcessError

if TYPE_CHECKING:
    from folio.core.settings import Settings

_STATE_STYLE = {
    State.RUNNING: "green",
    State.EXTERNAL: "cyan",
    State.UNHEALTHY: "yellow",
    State.STOPPED: "dim",
    State.NOT_INSTALLED: "red",
}
_USABLE = {State.RUNNING, State.EXTERNAL}


@click.group("services")
def services_group() -> None:
    """Install, start, stop and inspect Folio's servers (PostgreSQL, Redis, ...)."""


@services_group.command(
    "up",
    epilog=examples(
        "folio services up                 every server",
        "folio services up postgres redis  just these (and what they depend on)",
    ),
)
@click.argument("names", nargs=-1)
@pass_cli
def up_command(cli: CliContext, names: tuple[str, ...]) -> None:
    """Install what is missing and start NAMES (default: all), waiting until each is ready.

    Idempotent: servers already running are left as they are and named as adopted. When a
    server fails to start, every process this command started is stopped again and the
    command exits 1 with the reason.
    """
    with RichReporter(cli.errors) as reporter:
        manager = ServiceManager(cli.settings, reporter)
        try:
            warn_about_ports(cli, manager.port_warnings(names or None))
            started = manager.up(names or None)
        except (ProcessError, UnknownServiceError) as exc:
            # ``up`` has already stopped what it started; what it adopted runs on.
            report_adopted(cli, manager)
            cli.fail(one_line(exc))
    report_adopted(cli, manager)
    cli.console.print(
        f"started {len(started)} process(es); {len(manager.select(names or None))} service(s) ready"
    )


def process_failure(exc: BaseException, _settings: Settings | None) -> Failure | None:
    """A server process that did not start or become ready: its message, one line (a root-group rule)."""
    if isinstance(exc, ProcessError):
        return Failure((str(exc),))
    return None


def one_line(exc: BaseException) -> str:
    """The error's message on one line (a server's multi-line output included)."""
    return " ".join(str(exc).split())


def report_adopted(cli: CliContext, manager: ServiceManager) -> None:
    """Name each server ``up`` found already running: this command did not start it and will not stop it."""
    for adopted in manager.adopted:
        cli.console.print(escape(adopted.describe()), style="dim", soft_wrap=True)


def warn_about_ports(cli: CliContext, warnings: list[str]) -> None:
    """Print each port warning (ports the kernel may hand to outgoing connections)."""
    for line in warnings:
        cli.errors.print(f"[yellow]warning:[/] {escape(line)}", soft_wrap=True)


@services_group.command("down", epilog=examples("folio services down", "folio services down kafka"))
@click.argument("names", nargs=-1)
@pass_cli
def down_command(cli: CliContext, names: tuple[str, ...]) -> None:
    """Stop NAMES (default: all), only the processes Folio started, by their PID files."""
    try:
        stopped = ServiceManager(cli.settings).down(names or None)
    except UnknownServiceError as exc:
        cli.fail(str(exc))
    cli.console.print(f"stopped {', '.join(stopped) if stopped else 'nothing (none was running)'}")


@services_group.command(
    "rabbitmqctl",
    context_settings={"ignore_unknown_options": True},
    epilog=examples(
        "folio services rabbitmqctl list_queues -p folio name type messages_ready messages_unacknowledged",
        "folio services rabbitmqctl list_bindings -p folio",
        "folio services rabbitmqctl help",
    ),
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@pass_cli
def rabbitmqctl_command(cli: CliContext, args: tuple[str, ...]) -> None:
    """Run RabbitMQ's own rabbitmqctl on Folio's node (folio@localhost), as the rabbitmq account.

    Folio's queues live in the vhost "folio": pass -p folio to the list commands.
    """
    from folio.ops.services.rabbitmq import RabbitMQService

    try:
        click.echo(RabbitMQService(cli.settings).ctl(*args), nl=False)
    except ProcessError as exc:
        cli.fail(str(exc))


@services_group.command("status", epilog=examples("folio services status", "folio services status --json"))
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_cli
def status_command(cli: CliContext, names: tuple[str, ...], as_json: bool) -> None:
    """Show each server, its state, URLs and, when unhealthy, why.

    Exits 1 when any listed server is not running and healthy.
    """
    try:
        rows = ServiceManager(cli.settings).status(names or None)
    except UnknownServiceError as exc:
        cli.fail(str(exc))
    if as_json:
        click.echo(json.dumps([asdict(row) for row in rows], indent=2))
    else:
        data_dir = cli.settings.services.data_dir.absolute()
        table = Table(title="Folio services", caption=f"server data: {data_dir}", caption_justify="left")
        for column in ("service", "state", "endpoints", "detail"):
            table.add_column(column, overflow="fold")
        for row in rows:
            endpoints = "\n".join(f"{name}: {url}" for name, url in row.endpoints.items())
            table.add_row(
                row.name, f"[{_STATE_STYLE[row.state]}]{row.state}[/]", endpoints, row.detail or row.log_dir
            )
        cli.console.print(table)
    if any(row.state not in _USABLE for row in rows):
        raise SystemExit(1)
