"""Identity's command-line adapter: ``folio tenants list``, and the shop resolver behind every ``--shop``.

These commands act for the operator, not for a member of a shop: they check no role.
``folio.entrypoints.cli`` assembles the ``folio tenants`` group from this command, the
usage context's quota and usage commands and the platform's ``migrate``, and injects
``resolve_shop`` into the ``CliContext`` so that contexts below identity (audit, usage)
take a shop by its slug too. Heavy imports (SQLAlchemy, the context) happen inside the
functions: ``folio --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from folio.clikit import CliContext, examples, pass_cli, run_on_platform

if TYPE_CHECKING:
    from folio.core.data_migrations import TenantTarget
    from folio.core.platform import Platform
    from folio.identity.api import TenantRead

__all__ = ["list_tenants_command", "resolve_shop"]


async def resolve_shop(platform: Platform, slug: str) -> TenantTarget:
    """The shop called ``slug`` (``NotFoundError`` when there is none): a ``clikit.ShopResolver``."""
    from folio.core.data_migrations import TenantTarget
    from folio.identity.api import get_tenant_by_slug

    tenant = await get_tenant_by_slug(platform.database, slug)
    return TenantTarget(tenant.id, tenant.slug)


@click.command("list", epilog=examples("folio tenants list", "folio tenants list --json"))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
@pass_cli
def list_tenants_command(cli: CliContext, as_json: bool) -> None:
    """List every shop, oldest first."""
    from rich.table import Table

    from folio.identity.api import list_tenants

    async def work(platform: Platform) -> list[TenantRead]:
        return await list_tenants(platform.database)

    tenants = run_on_platform(cli, work)
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
