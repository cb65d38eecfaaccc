"""The usage context's command-line adapter: ``folio tenants quota set`` and ``folio tenants usage``.

``folio.entrypoints.cli`` mounts these in the ``folio tenants`` group (shops are
identity's; their quotas and usage are this context's). They act for the operator and
check no role; ``--shop SLUG`` is resolved by the resolver the entry point injects, so
this context needs no import of identity. The meters offered are ``Meter``'s values,
never a list of their own.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from folio.clikit import CliContext, examples, pass_cli, run_on_platform, shop_option
from folio.usage.schemas import Meter  # not .api: that loads the services, and `folio --help` stays fast

if TYPE_CHECKING:
    from folio.core.platform import Platform
    from folio.usage.api import QuotaRead, UsageRead

__all__ = ["METER_CHOICES", "quota_group", "usage_command"]

METER_CHOICES = click.Choice([meter.value for meter in Meter])
"""``--meter``: every ``Meter`` (a meter added to the enum is settable at once)."""


@click.group("quota")
def quota_group() -> None:
    """A shop's own quotas, replacing the plan's defaults (`tenancy.quotas`)."""


@quota_group.command(
    "set",
    epilog=examples(
        "folio tenants quota set --shop riverside-books --meter tasks --limit 50000",
        "folio tenants quota set --shop riverside-books --meter api_calls --default",
    ),
)
@shop_option
@click.option("--meter", type=METER_CHOICES, required=True, help="The meter whose quota to set.")
@click.option("--limit", "limit", type=click.IntRange(min=0), help="The shop's new limit.")
@click.option("--default", "use_default", is_flag=True, help="Drop the shop's own limit: the plan's applies.")
@pass_cli
def quota_set_command(cli: CliContext, shop: str, meter: str, limit: int | None, use_default: bool) -> None:
    """Give a shop its own limit for a meter (API calls: per UTC day)."""
    from folio.usage.api import get_tenant_quotas, set_quota_override

    if (limit is None) == (not use_default):
        cli.fail("give either --limit N or --default")

    async def work(platform: Platform) -> int:
        tenant = await cli.resolve_shop(platform, shop)
        db = platform.database
        await set_quota_override(db, tenant_id=tenant.id, meter=Meter(meter), limit=limit)
        quotas = await get_tenant_quotas(db, settings=platform.settings, tenant_id=tenant.id)
        return next(q.limit for q in quotas if q.meter == meter)

    effective = run_on_platform(cli, work)
    source = "the plan's default" if use_default else "the shop's own"
    cli.console.print(f"{shop}: {meter} quota is now [bold]{effective}[/] ({source})")


@click.command(
    "usage",
    epilog=examples(
        "folio tenants usage --shop riverside-books",
        "folio tenants usage --shop riverside-books --days 7 --json",
    ),
)
@shop_option
@click.option("--days", type=click.IntRange(1, 366), default=30, show_default=True, help="UTC days back.")
@click.option("--json", "as_json", is_flag=True, help="A JSON document instead of tables.")
@pass_cli
def usage_command(cli: CliContext, shop: str, days: int, as_json: bool) -> None:
    """Show a shop's quotas and its usage per meter and UTC day, newest first."""
    from rich.table import Table

    from folio.usage.api import get_tenant_quotas, get_tenant_usage

    async def work(platform: Platform) -> tuple[list[QuotaRead], list[UsageRead]]:
        tenant = await cli.resolve_shop(platform, shop)
        db = platform.database
        quotas = await get_tenant_quotas(db, settings=platform.settings, tenant_id=tenant.id)
        return quotas, await get_tenant_usage(db, tenant_id=tenant.id, days=days)

    quotas, usage = run_on_platform(cli, work)
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
