"""The mail context's command-line adapter, ``folio mail``: read the outbox, deliver pending mail.

The outbox is where development mail lands (``mail.backend = "outbox"``).

The mail context and SQLAlchemy are imported inside the commands: `folio --help` stays fast.
"""

from __future__ import annotations

import uuid

import click
from rich.markup import escape
from rich.table import Table

from folio.clikit import CliContext, examples, pass_cli, run_on_platform

__all__ = ["mail_group"]


@click.group("mail")
def mail_group() -> None:
    """Read the mail outbox, deliver pending mail."""


@mail_group.command(
    "outbox",
    epilog=examples(
        "folio mail outbox",
        "folio mail outbox --to ada@example.com --limit 5",
        "folio mail outbox --show 0b9f6c1e-5d0a-4f3e-9a53-2f1d3c4b5a69",
    ),
)
@click.option("--to", "recipient", metavar="EMAIL", help="Only mail to this address.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help="How many mails.")
@click.option("--show", "show_id", metavar="ID", help="Print one mail in full (its id from the table).")
@pass_cli
def outbox_command(cli: CliContext, recipient: str | None, limit: int, show_id: str | None) -> None:
    """List queued and sent mail, newest first, or print one mail with --show."""
    from folio.mail.api import get_mail, list_outbox

    if show_id is not None:
        try:
            mail_id = uuid.UUID(show_id.strip())
        except ValueError:
            cli.fail(f"{show_id!r} is not a mail id; copy one from `folio mail outbox`")
        mail = run_on_platform(cli, lambda platform: get_mail(platform.database, mail_id))
        if mail is None:
            cli.fail(f"no mail with id {mail_id}")
        sent = f"{mail.sent_at:%Y-%m-%d %H:%M:%S}" if mail.sent_at else "not sent"
        cli.console.print(f"[bold]To:[/] {escape(mail.recipient)}")
        cli.console.print(f"[bold]Subject:[/] {escape(mail.subject)}")
        cli.console.print(
            f"[bold]Kind:[/] {escape(mail.kind)}   [bold]Queued:[/] {mail.created_at:%Y-%m-%d %H:%M:%S}"
        )
        cli.console.print(f"[bold]Sent:[/] {sent}\n")
        cli.console.print(escape(mail.body), soft_wrap=True)
        return
    mails = run_on_platform(
        cli, lambda platform: list_outbox(platform.database, recipient=recipient, limit=limit)
    )
    if not mails:
        cli.console.print("the outbox is empty" + (f" for {escape(recipient)}" if recipient else ""))
        return
    table = Table(title="Outbox (newest first)")
    for column in ("id", "queued (UTC)", "to", "subject", "kind", "sent"):
        table.add_column(column, overflow="fold")
    for mail in mails:
        table.add_row(
            str(mail.id),
            f"{mail.created_at:%Y-%m-%d %H:%M:%S}",
            escape(mail.recipient),
            escape(mail.subject),
            mail.kind,
            "yes" if mail.sent_at else "no",
        )
    cli.console.print(table)


@mail_group.command("deliver", epilog=examples("FOLIO_MAIL_BACKEND=smtp folio mail deliver"))
@pass_cli
def deliver_command(cli: CliContext) -> None:
    """Send pending mail now (mail.backend = smtp; with the outbox backend there is nothing to send)."""
    from folio.mail.api import deliver_pending

    settings = cli.settings
    if settings.mail.backend != "smtp":
        cli.console.print("mail.backend is `outbox`: mail stays in the outbox (`folio mail outbox`)")
        return
    try:
        sent = run_on_platform(cli, lambda platform: deliver_pending(platform.database, settings=settings))
    except OSError as exc:
        cli.fail(
            f"could not reach the SMTP server {settings.mail.smtp_host}:{settings.mail.smtp_port}: {exc}"
        )
    cli.console.print(f"sent {sent} mail(s)")
