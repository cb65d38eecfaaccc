"""``folio config``: show and check the effective settings (L3-21)."""

from __future__ import annotations

import json
from typing import Any

import click
from pydantic import SecretStr
from rich.markup import escape
from rich.table import Table

from folio.clikit import CliContext, examples, pass_cli
from folio.clikit.failures import describe_database
from folio.core.settings import describe_settings, unknown_setting_names

MASK = "••••••••"


@click.group("config")
def config_group() -> None:
    """Inspect the effective configuration."""


def _display(value: Any, *, secret: bool) -> Any:
    if secret and value is not None:
        return MASK
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, dict | list | bool | int | float) or value is None:
        return value
    return str(value)


@config_group.command(
    "show",
    epilog=examples(
        "folio config show",
        "folio config show --json | jq '.[\"services.postgres.port\"]'",
        "FOLIO_GATEWAY_PORT=9000 folio config show --changed",
    ),
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (path -> value, origin, env var).")
@click.option("--changed", is_flag=True, help="Only settings that do not come from their default.")
@pass_cli
def show_command(cli: CliContext, as_json: bool, changed: bool) -> None:
    """Print every setting with its value, where it came from and its variable.

    Secrets are always masked. The table ends with the database commands here use and
    why: the default SQLite file, or the one the last `folio up` here ran on.
    """
    rows = describe_settings(cli.settings, config_file=cli.config_file)
    backend_origin = next(row.origin for row in rows if row.path == "database.backend")
    if changed:
        rows = [row for row in rows if row.origin != "default"]
    if as_json:
        payload = {
            row.path: {
                "value": _display(row.value, secret=row.secret),
                "origin": row.origin,
                "env": row.env_name,
                "reloadable": row.reloadable,
            }
            for row in rows
        }
        click.echo(json.dumps(payload, indent=2, default=str))
        return
    table = Table(title=f"Folio settings (profile {cli.settings.profile})", show_lines=False)
    for column in ("setting", "value", "from", "env var"):
        table.add_column(column, overflow="fold")
    for row in rows:
        value = _display(row.value, secret=row.secret)
        style = "dim" if row.origin == "default" else ""
        marker = " ↻" if row.reloadable else ""
        table.add_row(
            row.path + marker,
            json.dumps(value) if not isinstance(value, str) else value,
            row.origin,
            row.env_name,
            style=style,
        )
    cli.console.print(table)
    cli.console.print("↻ reloadable without restart (SIGHUP or config-file change)", style="dim")
    # The one line that answers "which database will `folio` commands use here?".
    cli.console.print(
        f"database: {escape(describe_database(cli.settings))}; backend from {escape(backend_origin)}",
        soft_wrap=True,
    )


@config_group.command(
    "check",
    epilog=examples(
        "folio config check", "folio --config prod.toml config check   # exits 2 on an invalid setting"
    ),
)
@pass_cli
def check_command(cli: CliContext) -> None:
    """Validate the configuration; warn about FOLIO_* variables that set nothing.

    Exits 0 when valid, 2 when a setting is invalid, 1 when unknown variables exist.
    """
    settings = cli.settings
    unknown = unknown_setting_names()
    for message in unknown:
        cli.errors.print(f"[yellow]warning:[/] {escape(message)}", soft_wrap=True)
    source = f" (config file {cli.config_file})" if cli.config_file else ""
    cli.console.print(f"[green]configuration is valid[/] for profile {settings.profile}{source}")
    if unknown:
        raise SystemExit(1)
