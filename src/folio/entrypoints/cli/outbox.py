"""``folio outbox``: the operator's view of the transactional outbox (``folio.core.outbox``).

Each consumer's backlog (pending, retrying, set aside as poisoned), the poisoned events
with their last errors, and putting them back once the cause is fixed. The outbox is the
kernel's, not a context's, so its commands sit with the platform-level ones.
"""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from folio.clikit import CliContext, examples, pass_cli, run_on_platform

__all__ = ["outbox_group"]


@click.group("outbox")
def outbox_group() -> None:
    """Each event consumer's backlog; poisoned events and putting them back."""


@outbox_group.command("status", epilog=examples("folio outbox status"))
@pass_cli
def status_command(cli: CliContext) -> None:
    """Per consumer: its topics, events pending, retrying after a failure, poisoned, the oldest pending."""
    from folio.core.outbox import consumer_status

    statuses = run_on_platform(cli, lambda platform: consumer_status(platform.database))
    if not statuses:
        cli.console.print("no consumer follows the outbox yet")
        return
    table = Table(title="Outbox consumers")
    for column in ("consumer", "topics", "pending", "retrying", "poisoned", "oldest pending (UTC)"):
        table.add_column(column, overflow="fold")
    for status in statuses:
        oldest = f"{status.oldest_pending_at:%Y-%m-%d %H:%M:%S}" if status.oldest_pending_at else "-"
        table.add_row(
            status.name,
            ", ".join(status.topics),
            str(status.pending),
            str(status.retrying),
            str(status.poisoned),
            oldest,
        )
    cli.console.print(table)


@outbox_group.command("poisoned", epilog=examples("folio outbox poisoned search"))
@click.argument("consumer")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help="How many events.")
@pass_cli
def poisoned_command(cli: CliContext, consumer: str, limit: int) -> None:
    """The events CONSUMER set aside after its last attempt, oldest first, with the last error."""
    from folio.core.outbox import list_poisoned

    events = run_on_platform(
        cli, lambda platform: list_poisoned(platform.database, consumer=consumer, limit=limit)
    )
    if not events:
        cli.console.print(f"{escape(consumer)} has no poisoned events")
        return
    table = Table(title=f"Poisoned events of {escape(consumer)}")
    for column in ("event", "topic", "type", "key", "attempts", "last error"):
        table.add_column(column, overflow="fold")
    for event in events:
        table.add_row(
            str(event.id),
            event.topic,
            event.type,
            escape(event.key or "-"),
            str(event.attempts),
            escape((event.last_error or "").splitlines()[-1] if event.last_error else "-"),
        )
    cli.console.print(table)


@outbox_group.command(
    "requeue",
    epilog=examples("folio outbox requeue search", "folio outbox requeue search 1041 1042"),
)
@click.argument("consumer")
@click.argument("event_ids", nargs=-1, type=click.IntRange(min=1))
@pass_cli
def requeue_command(cli: CliContext, consumer: str, event_ids: tuple[int, ...]) -> None:
    """Put CONSUMER's poisoned events (all, or the EVENT_IDS given) back in its queue with fresh attempts."""
    from folio.core.outbox import requeue_poisoned

    moved = run_on_platform(
        cli, lambda platform: requeue_poisoned(platform.database, consumer=consumer, event_ids=event_ids)
    )
    cli.console.print(f"requeued {moved} event(s) for {escape(consumer)}")
