"""The orders context's command-line adapter: ``folio orders expire``.

Operators run the sweeps by hand here (the worker runs them on a schedule): after a
long outage, say, to release the stock of every unpaid order whose hold ran out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from folio.clikit import CliContext, examples, pass_cli, run_on_platform

if TYPE_CHECKING:
    from folio.core.platform import Platform
    from folio.orders.sweeps import SweepReport

__all__ = ["orders_group"]


@click.group("orders")
def orders_group() -> None:
    """Shops' orders: the scheduled sweeps, by hand."""


@orders_group.command("expire", epilog=examples("folio orders expire"))
@pass_cli
def expire_command(cli: CliContext) -> None:
    """Cancel every unpaid order whose stock hold ran out, returning its stock."""
    from folio.orders.sweeps import expire_all_reservations

    async def work(platform: Platform) -> SweepReport:
        return await expire_all_reservations(platform.database)

    report = run_on_platform(cli, work)
    cli.console.print(f"{report.orders} order(s) cancelled across {report.shops} shop(s)")
