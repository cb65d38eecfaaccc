"""``folio queues``: the work queues as the broker counts them, and their dead letters.

The queues are the ones the worker's consumers declare, so the group is built from the
same registrars (``queues_group(registrars)``; the entry point passes the worker's).
Everything here talks to RabbitMQ only, through the platform's broker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import click
from rich.markup import escape
from rich.table import Table

from folio.clikit import CliContext, examples, pass_cli, run_on_platform

if TYPE_CHECKING:
    from folio.core.platform import Platform
    from folio.messaging.broker import Broker
    from folio.messaging.registry import Registrar
    from folio.messaging.topology import WorkQueue

__all__ = ["queues_group"]

T = TypeVar("T")
_BODY_CHARS = 80


def _on_broker(
    cli: CliContext,
    registrars: Sequence[Registrar],
    work: Callable[[Broker, dict[str, WorkQueue]], Awaitable[T]],
) -> T:
    """Run ``work`` with the platform's broker and the registered work queues by name."""
    from folio.core.platform import SlotNotWiredError
    from folio.messaging.api import BROKER, HandlerRegistry

    async def run(platform: Platform) -> T:
        registry = HandlerRegistry()
        for register in registrars:
            register(registry, platform)
        try:
            broker = platform.get(BROKER)
        except SlotNotWiredError:
            cli.fail("no message broker in lite mode: the work queues need RabbitMQ (`folio up`)")
        return await work(broker, {consumer.queue.name: consumer.queue for consumer in registry})

    return run_on_platform(cli, run)


def _one(queues: dict[str, WorkQueue], name: str) -> WorkQueue:
    from folio.messaging.api import UnknownQueueError

    if name not in queues:
        known = ", ".join(sorted(queues)) or "none"
        raise UnknownQueueError(
            f"no consumer owns a work queue called {name!r} (registered: {known})", queue=name
        )
    return queues[name]


queue_option = click.option(
    "--queue", "queue", required=True, metavar="NAME", help="The work queue, by name."
)


def queues_group(registrars: Sequence[Registrar]) -> click.Group:
    """The ``folio queues`` group over the work queues ``registrars`` declare."""

    @click.group("queues")
    def group() -> None:
        """RabbitMQ work queues: depth per queue, and their dead letters (list, replay, purge)."""

    @group.command(
        "status", epilog=examples("folio queues status", "folio queues status --queue payments.webhooks")
    )
    @click.option("--queue", "queue", metavar="NAME", help="Only this work queue.")
    @pass_cli
    def status_command(cli: CliContext, queue: str | None) -> None:
        """Per work queue: messages ready (normal, urgent), on the retry ladder, dead; consumers."""
        from folio.messaging.broker import QueueDepth

        async def work(broker: Broker, queues: dict[str, WorkQueue]) -> list[QueueDepth]:
            chosen = [_one(queues, queue)] if queue else list(queues.values())
            return [await broker.depth(each) for each in chosen]

        depths = _on_broker(cli, registrars, work)
        if not depths:
            cli.console.print("no work queue is registered yet")
            return
        table = Table(title="Work queues (ready messages; unacknowledged ones are with the workers)")
        for column in ("queue", "ready", "urgent", "retrying", "dead", "consumers"):
            table.add_column(column, overflow="fold")
        for depth in depths:
            table.add_row(
                depth.name,
                str(depth.ready),
                str(depth.urgent),
                str(depth.retrying),
                str(depth.dead),
                str(depth.consumers),
            )
        cli.console.print(table)

    @group.group("dlq")
    def dlq_group() -> None:
        """A work queue's dead letters: list them, replay them to the queue, purge them."""

    @dlq_group.command("list", epilog=examples("folio queues dlq list --queue payments.webhooks --limit 5"))
    @queue_option
    @click.option(
        "--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help="How many, oldest first."
    )
    @pass_cli
    def list_command(cli: CliContext, queue: str, limit: int) -> None:
        """The oldest dead letters of a work queue, with why each died; they stay where they are."""
        from folio.messaging.api import DeadLetter, list_dead

        async def work(broker: Broker, queues: dict[str, WorkQueue]) -> Sequence[DeadLetter]:
            return await list_dead(broker, _one(queues, queue), limit=limit)

        letters = _on_broker(cli, registrars, work)
        if not letters:
            cli.console.print(f"{escape(queue)} has no dead letters")
            return
        table = Table(title=f"Dead letters of {escape(queue)}")
        for column in ("message id", "type", "lane", "attempts", "dead since (UTC)", "reason", "body"):
            table.add_column(column, overflow="fold")
        for letter in letters:
            when = f"{letter.dead_since:%Y-%m-%d %H:%M:%S}" if letter.dead_since else "-"
            body = letter.body.decode("utf-8", "replace")
            table.add_row(
                escape(letter.message_id or "-"),
                escape(letter.type or "-"),
                letter.lane,
                str(letter.attempts),
                when,
                escape(letter.reason.splitlines()[-1] if letter.reason else "-"),
                escape(body if len(body) <= _BODY_CHARS else body[: _BODY_CHARS - 1] + "…"),
            )
        cli.console.print(table)

    @dlq_group.command(
        "replay", epilog=examples("folio queues dlq replay --queue payments.webhooks --limit 100")
    )
    @queue_option
    @click.option(
        "--limit",
        default=100,
        show_default=True,
        type=click.IntRange(1, 100_000),
        help="How many, oldest first.",
    )
    @pass_cli
    def replay_command(cli: CliContext, queue: str, limit: int) -> None:
        """Send dead letters back to the lane they died in, with their failures forgotten."""
        from folio.messaging.api import replay_dead

        async def work(broker: Broker, queues: dict[str, WorkQueue]) -> int:
            return await replay_dead(broker, _one(queues, queue), limit=limit)

        cli.console.print(f"replayed {_on_broker(cli, registrars, work)} message(s) to {escape(queue)}")

    @dlq_group.command(
        "purge",
        epilog=examples(
            "folio queues dlq purge --queue payments.webhooks",
            "folio queues dlq purge --queue payments.webhooks --limit 10",
        ),
    )
    @queue_option
    @click.option("--limit", type=click.IntRange(1, 100_000), help="Only the oldest N (default: all).")
    @pass_cli
    def purge_command(cli: CliContext, queue: str, limit: int | None) -> None:
        """Delete dead letters for good."""
        from folio.messaging.api import purge_dead

        async def work(broker: Broker, queues: dict[str, WorkQueue]) -> int:
            return await purge_dead(broker, _one(queues, queue), limit=limit)

        cli.console.print(f"purged {_on_broker(cli, registrars, work)} dead letter(s) of {escape(queue)}")

    return group
