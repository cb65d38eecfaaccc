"""``folio``: the command line (L3-14).

Command groups live one per module; third-party commands join through the
``folio.plugins`` entry-point group (see ``plugins.py``). The root group
(``failures.FolioGroup``) turns every command's expected failures into one line.
"""

from __future__ import annotations

from pathlib import Path

import click

from folio.entrypoints.cli.audit import audit_group
from folio.entrypoints.cli.catalog import catalog_group
from folio.entrypoints.cli.config import config_group
from folio.entrypoints.cli.context import CliContext
from folio.entrypoints.cli.data import data_group
from folio.entrypoints.cli.db import db_group
from folio.entrypoints.cli.failures import FolioGroup
from folio.entrypoints.cli.mail import mail_group
from folio.entrypoints.cli.pdf import pdf_group
from folio.entrypoints.cli.plugins import completion_command, load_plugins, plugins_group
from folio.entrypoints.cli.search import search_group
from folio.entrypoints.cli.services import services_group
from folio.entrypoints.cli.tenants import tenants_group
from folio.entrypoints.cli.text import text_group
from folio.entrypoints.cli.up import up_command

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def build_cli() -> click.Group:
    """The ``folio`` command with its built-in groups and every installed plugin."""

    @click.group(
        cls=FolioGroup,
        context_settings=CONTEXT_SETTINGS,
        epilog="""\b
Examples:
  folio up                  install what is missing, start everything, print the URLs
  folio up --lite           embedded mode: SQLite, no servers
  folio services status     each server, its URL and health
  folio config show         the effective settings, secrets masked
  folio --config prod.toml config check

Every setting can also come from FOLIO_* variables, .env or folio.toml:
see `folio config show`. Shell completion: `folio completion bash`.""",
    )
    @click.option(
        "--config",
        "config_file",
        type=click.Path(path_type=Path, dir_okay=False),
        envvar="FOLIO_CONFIG_FILE",
        help="TOML config file (default: ./folio.toml when present).",
    )
    @click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
    @click.option(
        "--log-format",
        type=click.Choice(["console", "json"]),
        default=None,
        help="How log lines look on stderr (default: console).",
    )
    @click.version_option(package_name="folio", message="folio %(version)s")
    @click.pass_context
    def cli(ctx: click.Context, config_file: Path | None, verbose: int, log_format: str | None) -> None:
        """Folio: a multi-tenant platform for independent bookshops.

        Runs the whole platform on one machine, its real servers included.
        """
        ctx.obj = CliContext(config_file=config_file, verbosity=verbose, log_format=log_format)

    for command in (up_command, services_group, config_group, db_group, plugins_group, completion_command):
        cli.add_command(command)
    cli.add_command(mail_group)
    cli.add_command(tenants_group)
    cli.add_command(audit_group)
    cli.add_command(data_group)
    cli.add_command(text_group)
    cli.add_command(pdf_group)
    cli.add_command(search_group)
    cli.add_command(catalog_group)
    load_plugins(cli)
    return cli


def main() -> None:
    """Console-script entry point."""
    build_cli()(prog_name="folio")
