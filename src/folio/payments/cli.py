"""The payments context's command-line adapter: ``folio payments keys create|list|revoke --shop SLUG``.

An operator issues a shop's secret key here (the shop's owner can also do it over the
API, ``POST /api/v1/payments/keys``); the key is printed once. The payments context is
imported inside the commands, so ``folio --help`` stays fast.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from folio.clikit import CliContext, examples, pass_cli, run_on_platform, shop_option

if TYPE_CHECKING:
    from folio.core.platform import Platform
    from folio.payments.api import SecretKeyIssued, SecretKeyRead

__all__ = ["payments_group"]


@click.group("payments")
def payments_group() -> None:
    """Stripe-compatible test-mode payments: a shop's secret keys."""


@payments_group.group("keys")
def keys_group() -> None:
    """Issue, list and revoke a shop's `sk_test_` secret keys."""


@keys_group.command(
    "create",
    epilog=examples(
        "folio payments keys create --shop riverside-books",
        'folio payments keys create --shop riverside-books --name "web shop"',
    ),
)
@shop_option
@click.option("--name", default="default", show_default=True, help="What the key is for.")
@pass_cli
def create_command(cli: CliContext, *, shop: str, name: str) -> None:
    """Issue a secret key for the shop and print it (the only time it is shown)."""
    from folio.payments.api import issue_secret_key

    async def work(platform: Platform) -> SecretKeyIssued:
        tenant = await cli.resolve_shop(platform, shop)
        return await issue_secret_key(
            platform.database, tenant_id=tenant.id, name=name, actor_kind="system", actor_id=None
        )

    issued = run_on_platform(cli, work)
    cli.console.print(
        f"secret key {issued.id} for {escape(shop)} ({escape(issued.name)}): "
        "store it now, it is not shown again"
    )
    cli.console.print(issued.key, soft_wrap=True, markup=False, highlight=False)


@keys_group.command("list", epilog=examples("folio payments keys list --shop riverside-books"))
@shop_option
@pass_cli
def list_command(cli: CliContext, *, shop: str) -> None:
    """List the shop's secret keys (never the keys themselves), newest first."""
    from folio.payments.api import list_secret_keys

    async def work(platform: Platform) -> list[SecretKeyRead]:
        tenant = await cli.resolve_shop(platform, shop)
        return await list_secret_keys(platform.database, tenant_id=tenant.id)

    keys = run_on_platform(cli, work)
    if not keys:
        cli.console.print(f"{escape(shop)}: no secret keys; issue one with `folio payments keys create`")
        return
    table = Table(
        "id", "name", "ends in", "created (UTC)", "revoked (UTC)", title=f"{escape(shop)}: secret keys"
    )
    for key in keys:
        revoked = f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "-"
        table.add_row(str(key.id), escape(key.name), key.hint, f"{key.created_at:%Y-%m-%d %H:%M}", revoked)
    cli.console.print(table)


@keys_group.command(
    "revoke",
    epilog=examples("folio payments keys revoke --shop riverside-books 6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"),
)
@shop_option
@click.argument("key_id")
@pass_cli
def revoke_command(cli: CliContext, *, shop: str, key_id: str) -> None:
    """Revoke a secret key at once (its id from `folio payments keys list`)."""
    from folio.payments.api import revoke_secret_key

    try:
        parsed = uuid.UUID(key_id.strip())
    except ValueError:
        cli.fail(f"{key_id!r} is not a key id; copy one from `folio payments keys list`")

    async def work(platform: Platform) -> SecretKeyRead:
        tenant = await cli.resolve_shop(platform, shop)
        return await revoke_secret_key(
            platform.database, tenant_id=tenant.id, key_id=parsed, actor_kind="system", actor_id=None
        )

    key = run_on_platform(cli, work)
    cli.console.print(f"revoked secret key {key.id} ({escape(key.name)}, ending in {key.hint})")
