"""``folio``: the command line (L3-14). This package only assembles it.

Each context's commands live in its own ``cli`` adapter (``folio.<context>.cli``) and
are mounted here; what they share (the invocation's state, its platform, the root
group's one-line failures) is ``folio.clikit``. Left here are the platform's own
commands (``up``, ``services``, ``config``, ``db``, ``plugins``) and what clikit may
not import: the platform factory (``folio.bootstrap.build_platform``), identity's shop
resolver and the harness's failure rule, injected into every invocation. Third-party
commands join through the ``folio.plugins`` entry-point group (see ``plugins.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from folio.audit.cli import audit_group
from folio.catalog.cli import catalog_group
from folio.clikit import CliContext
from folio.clikit.failures import FolioGroup
from folio.datasets.cli import data_group
from folio.entrypoints.cli.config import config_group
from folio.entrypoints.cli.db import db_group, tenants_migrate_command
from folio.entrypoints.cli.grpc import grpc_group
from folio.entrypoints.cli.outbox import outbox_group
from folio.entrypoints.cli.plugins import completion_command, load_plugins, plugins_group
from folio.entrypoints.cli.services import process_failure, services_group
from folio.entrypoints.cli.up import up_command
from folio.entrypoints.worker.registrars import REGISTRARS
from folio.flows.cli import flows_group
from folio.identity.cli import list_tenants_command, resolve_shop
from folio.inbox.cli import inbox_group
from folio.lake.cli import lake_group
from folio.mail.cli import mail_group
from folio.messaging.cli import queues_group
from folio.orders.cli import orders_group
from folio.payments.cli import payments_group
from folio.pdfindex.cli import pdf_group
from folio.search.cli import search_group
from folio.textanalysis.cli import text_group
from folio.traces.cli import traces_group
from folio.usage.cli import quota_group, usage_command

if TYPE_CHECKING:
    from folio.core.platform import Platform
    from folio.core.settings import Settings

__all__ = ["build_cli", "main"]

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def build_platform(settings: Settings) -> Platform:
    """``folio.bootstrap.build_platform``, imported on first use.

    Bootstrap loads every context it wires (seconds); `folio --help`, `folio config`
    and the commands that never touch the platform do not wait for it.
    """
    from folio import bootstrap

    return bootstrap.build_platform(settings)


def _tenants_group() -> click.Group:
    """``folio tenants``, assembled from three owners.

    Shops are identity's (``list``), their quotas and usage the usage context's
    (``quota``, ``usage``), their data migrations the platform's (``migrate``).
    """
    group = click.Group(
        "tenants", help="Operate on shops (tenants): list them, set quotas, read usage, run data migrations."
    )
    for command in (list_tenants_command, quota_group, usage_command, tenants_migrate_command):
        group.add_command(command)
    return group


def build_cli() -> click.Group:
    """The ``folio`` command with its built-in groups and every installed plugin."""

    @click.group(
        cls=FolioGroup,
        failures=[process_failure],
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
        ctx.obj = CliContext(
            config_file=config_file,
            verbosity=verbose,
            log_format=log_format,
            platform_factory=build_platform,
            shop_resolver=resolve_shop,
        )

    platform_commands = (
        up_command,
        services_group,
        config_group,
        db_group,
        outbox_group,
        grpc_group,
        plugins_group,
    )
    for command in (*platform_commands, completion_command):
        cli.add_command(command)
    for group in (
        mail_group,
        _tenants_group(),
        audit_group,
        data_group,
        text_group,
        pdf_group,
        search_group,
        queues_group(REGISTRARS),
        catalog_group,
        orders_group,
        payments_group,
        lake_group,
        inbox_group,
        flows_group,
        traces_group,
    ):
        cli.add_command(group)
    load_plugins(cli)
    return cli


def main() -> None:
    """Console-script entry point."""
    build_cli()(prog_name="folio")
