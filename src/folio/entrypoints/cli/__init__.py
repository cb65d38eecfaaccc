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

from folio.clikit import CliContext
from folio.clikit.failures import Failure, FolioGroup
from folio.entrypoints.cli.plugins import load_plugins

if TYPE_CHECKING:
    from folio.core.data_migrations import TenantTarget
    from folio.core.platform import Platform
    from folio.core.settings import Settings

__all__ = ["build_cli", "main", "queues_group", "tenants_group"]

COMMANDS = {
    # The platform's own.
    "up": "folio.entrypoints.cli.up:up_command",
    "services": "folio.entrypoints.cli.services:services_group",
    "config": "folio.entrypoints.cli.config:config_group",
    "db": "folio.entrypoints.cli.db:db_group",
    "outbox": "folio.entrypoints.cli.outbox:outbox_group",
    "grpc": "folio.entrypoints.cli.grpc:grpc_group",
    "plugins": "folio.entrypoints.cli.plugins:plugins_group",
    "completion": "folio.entrypoints.cli.plugins:completion_command",
    # Each context's.
    "mail": "folio.mail.cli:mail_group",
    "tenants": "folio.entrypoints.cli:tenants_group",
    "audit": "folio.audit.cli:audit_group",
    "data": "folio.datasets.cli:data_group",
    "text": "folio.textanalysis.cli:text_group",
    "pdf": "folio.pdfindex.cli:pdf_group",
    "search": "folio.search.cli:search_group",
    "queues": "folio.entrypoints.cli:queues_group",
    "catalog": "folio.catalog.cli:catalog_group",
    "orders": "folio.orders.cli:orders_group",
    "payments": "folio.payments.cli:payments_group",
    "lake": "folio.lake.cli:lake_group",
    "inbox": "folio.inbox.cli:inbox_group",
    "flows": "folio.flows.cli:flows_group",
    "traces": "folio.traces.cli:traces_group",
}
"""Every built-in command, by where it lives: imported only when it runs (``FolioGroup``'s ``lazy``)."""

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def build_platform(settings: Settings) -> Platform:
    """``folio.bootstrap.build_platform``, imported on first use.

    Bootstrap loads every context it wires (seconds); `folio --help`, `folio config`
    and the commands that never touch the platform do not wait for it.
    """
    from folio import bootstrap

    return bootstrap.build_platform(settings)


async def resolve_shop(platform: Platform, slug: str) -> TenantTarget:
    """The shop resolver of identity, imported on first use (a ``clikit.ShopResolver``)."""
    from folio.identity.cli import resolve_shop as resolve

    return await resolve(platform, slug)


def process_failure(exc: BaseException, settings: Settings | None) -> Failure | None:
    """The harness's failure rule (a server that did not start), imported once a command has failed."""
    from folio.entrypoints.cli.services import process_failure as explain_process

    return explain_process(exc, settings)


def tenants_group() -> click.Group:
    """``folio tenants``, assembled from three owners.

    Shops are identity's (``list``), their quotas and usage the usage context's
    (``quota``, ``usage``), their data migrations the platform's (``migrate``).
    """
    from folio.entrypoints.cli.db import tenants_migrate_command
    from folio.identity.cli import list_tenants_command
    from folio.usage.cli import quota_group, usage_command

    group = click.Group(
        "tenants", help="Operate on shops (tenants): list them, set quotas, read usage, run data migrations."
    )
    for command in (list_tenants_command, quota_group, usage_command, tenants_migrate_command):
        group.add_command(command)
    return group


def queues_group() -> click.Group:
    """``folio queues``, over the queues every worker registrar declares."""
    from folio.entrypoints.worker.registrars import REGISTRARS
    from folio.messaging.cli import queues_group as group_over

    return group_over(REGISTRARS)


def build_cli() -> click.Group:
    """The ``folio`` command with its built-in groups and every installed plugin."""

    @click.group(
        cls=FolioGroup,
        failures=[process_failure],
        lazy=COMMANDS,
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

    load_plugins(cli)
    return cli


def main() -> None:
    """Console-script entry point."""
    build_cli()(prog_name="folio")
