"""Mail use cases: queue a message in the caller's transaction, read the outbox, deliver it.

The outbox is a transactional outbox: ``queue_mail`` adds a row to the session of the
change that causes the mail, so the mail exists if and only if that change commits.
``deliver_pending`` sends afterwards, outside any transaction; delivery is at least
once (a crash between sending and marking sent sends that message again), and one
deliverer at a time is assumed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.settings import Settings
from folio.mail.delivery import OutgoingMail, send_batch
from folio.mail.models import OutboxMessage
from folio.mail.schemas import MailRead

__all__ = ["DEFAULT_BATCH_SIZE", "deliver_pending", "get_mail", "list_outbox", "queue_mail"]

log = structlog.get_logger(__name__)

DEFAULT_BATCH_SIZE = 100
"""Messages ``deliver_pending`` sends per call."""


async def queue_mail(session: AsyncSession, *, recipient: str, subject: str, body: str, kind: str) -> None:
    """Add a mail to the outbox within the caller's unit of work (it commits with the caller's change).

    ``kind`` names what caused it (``password_reset``, ``invitation``, ``account_locked``...).
    The recipient is stored stripped and lowercased, the form ``list_outbox`` looks it up in.
    """
    session.add(OutboxMessage(recipient=recipient.strip().lower(), subject=subject, body=body, kind=kind))


async def list_outbox(db: Database, *, recipient: str | None = None, limit: int = 50) -> list[MailRead]:
    """The newest ``limit`` mails (to ``recipient``, compared lowercased, when given), newest first."""

    async def work(session: AsyncSession) -> list[MailRead]:
        query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id).limit(limit)
        if recipient is not None:
            query = query.where(OutboxMessage.recipient == recipient.strip().lower())
        return [MailRead.model_validate(row) for row in (await session.scalars(query)).all()]

    return await db.run(work, readonly=True)


async def get_mail(db: Database, mail_id: uuid.UUID) -> MailRead | None:
    """The outbox message ``mail_id``, or None."""

    async def work(session: AsyncSession) -> MailRead | None:
        row = await session.get(OutboxMessage, mail_id)
        return None if row is None else MailRead.model_validate(row)

    return await db.run(work, readonly=True)


async def deliver_pending(
    db: Database,
    *,
    settings: Settings,
    batch_size: int = DEFAULT_BATCH_SIZE,
    clock: Callable[[], dt.datetime] = utcnow,
) -> int:
    """Send up to ``batch_size`` unsent mails, oldest first, and mark them sent; return how many went.

    With ``mail.backend = "outbox"`` nothing is sent (the outbox is the mailbox) and 0 is
    returned. With ``smtp`` the messages go over one connection, in a worker thread;
    the ones the server accepted get ``sent_at``. Raises ``OSError`` or
    ``smtplib.SMTPException`` when the server cannot be used; nothing is marked then.
    """
    if settings.mail.backend != "smtp":
        return 0
    pending = await _pending(db, batch_size)
    if not pending:
        return 0
    sent_ids = await asyncio.to_thread(send_batch, pending, settings=settings.mail)
    if sent_ids:
        await _mark_sent(db, [uuid.UUID(mail_id) for mail_id in sent_ids], clock())
    log.info("mail.delivered", sent=len(sent_ids), refused=len(pending) - len(sent_ids))
    return len(sent_ids)


async def _pending(db: Database, batch_size: int) -> list[OutgoingMail]:
    async def work(session: AsyncSession) -> list[OutgoingMail]:
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None))
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
            .limit(batch_size)
        )
        return [
            OutgoingMail(id=str(row.id), recipient=row.recipient, subject=row.subject, body=row.body)
            for row in (await session.scalars(query)).all()
        ]

    # The primary, not a replica: a lagging replica would offer mails already sent.
    return await db.run(work)


async def _mark_sent(db: Database, ids: list[uuid.UUID], sent_at: dt.datetime) -> None:
    async def work(session: AsyncSession) -> None:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(sent_at=sent_at))

    await db.run(work)
