"""The audit context's command-line adapter: ``folio audit list``, a shop's trail as an operator reads it.

``--shop SLUG`` is resolved by the resolver the entry point injects (identity's): this
context sits below identity and imports none of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from folio.clikit import CliContext, examples, pass_cli, run_on_platform, shop_option

if TYPE_CHECKING:
    from folio.audit.api import AuditPage
    from folio.core.platform import Platform

__all__ = ["audit_group"]


@click.group("audit")
def audit_group() -> None:
    """Read the audit trail: who changed what, when, in which shop."""


@audit_group.command(
    "list",
    epilog=examples(
        "folio audit list --shop riverside-books",
        "folio audit list --shop riverside-books --action task.deleted --limit 10",
        "folio audit list --shop riverside-books --json",
    ),
)
@shop_option
@click.option("--action", help="Only events with this action (e.g. task.updated).")
@click.option("--entity-type", help="Only events about this kind of thing (e.g. task).")
@click.option("--entity-id", help="Only events about this one thing.")
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True, help="Events to show.")
@click.option("--cursor", help="Resume after the last page (its `next` cursor).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
@pass_cli
def list_command(
    cli: CliContext,
    *,
    shop: str,
    action: str | None,
    entity_type: str | None,
    entity_id: str | None,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """List a shop's audit events, newest first."""
    from rich.table import Table

    from folio.audit.api import list_tenant_events

    async def work(platform: Platform) -> AuditPage:
        tenant = await cli.resolve_shop(platform, shop)
        return await list_tenant_events(
            platform.database,
            settings=platform.settings,
            tenant_id=tenant.id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            limit=limit,
            cursor=cursor,
        )

    page = run_on_platform(cli, work)
    if as_json:
        for event in page.items:
            cli.console.print(event.model_dump_json(), soft_wrap=True, markup=False, highlight=False)
        return
    table = Table("when (UTC)", "actor", "action", "entity", "correlation id", title=f"{shop}: audit trail")
    for event in page.items:
        actor = event.actor_kind if event.actor_id is None else f"{event.actor_kind}:{event.actor_id}"
        entity = event.entity_type if event.entity_id is None else f"{event.entity_type}:{event.entity_id}"
        table.add_row(
            f"{event.occurred_at:%Y-%m-%d %H:%M:%S}", actor, event.action, entity, event.correlation_id or "-"
        )
    cli.console.print(table if page.items else f"{shop}: no audit events match")
    if page.next_cursor is not None:
        cli.console.print(f"more: --cursor {page.next_cursor}")
