"""Delivering the outbox to a real SMTP server (aiosmtpd in a thread)."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.settings import Settings
from folio.mail.api import deliver_pending, list_outbox, queue_mail
from folio.mail.models import OutboxMessage
from tests.conftest import free_port
from tests.integration.mail.conftest import REFUSED_DOMAIN, SmtpServer
from tests.support.identity import unique_email

pytestmark = pytest.mark.integration


async def _queue(db: Database, *recipients: str) -> None:
    async def work(session: AsyncSession) -> None:
        for recipient in recipients:
            await queue_mail(
                session, recipient=recipient, subject=f"Hi {recipient}", body="Hello!\n", kind="test"
            )

    await db.run(work)


async def _mark_everything_sent(db: Database) -> None:
    """Earlier tests (shared PostgreSQL) may have left unsent mail; this test starts from none."""

    async def work(session: AsyncSession) -> None:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).values(sent_at=utcnow())
        )

    await db.run(work)


async def test_pending_mail_arrives_and_is_marked_sent(
    any_database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    """Two queued mails reach the server with their headers; both are marked sent; a second run sends none."""
    await _mark_everything_sent(any_database)
    ada, bob = unique_email("ada"), unique_email("bob")
    await _queue(any_database, ada, bob)
    sent = await deliver_pending(any_database, settings=smtp_settings)
    # ">=": tests of other contexts may queue mail on the shared PostgreSQL meanwhile.
    assert sent == len(smtp_server.inbox.messages) >= 2
    received = {message["To"]: message for message in smtp_server.inbox.messages}
    assert {ada, bob} <= set(received)
    assert received[ada]["Subject"] == f"Hi {ada}"
    assert received[ada]["From"] == smtp_settings.mail.sender
    assert str(received[ada].get_payload()).strip() == "Hello!"
    assert all(mail.sent_at is not None for mail in await list_outbox(any_database, recipient=ada))
    await deliver_pending(any_database, settings=smtp_settings)
    assert [message["To"] for message in smtp_server.inbox.messages].count(ada) == 1


async def test_a_refused_recipient_stays_pending(
    any_database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    """A mail the server refuses is not marked sent; the rest of the batch goes."""
    await _mark_everything_sent(any_database)
    good, bad = unique_email("good"), f"someone-{unique_email()[:8]}@{REFUSED_DOMAIN}"
    await _queue(any_database, good, bad)
    await deliver_pending(any_database, settings=smtp_settings)
    recipients = [message["To"] for message in smtp_server.inbox.messages]
    assert good in recipients
    assert bad not in recipients
    assert (await list_outbox(any_database, recipient=bad))[0].sent_at is None


async def test_an_unreachable_server_marks_nothing(any_database: Database, smtp_settings: Settings) -> None:
    """When no server listens, delivery raises OSError and the mail stays pending."""
    await _mark_everything_sent(any_database)
    email = unique_email()
    await _queue(any_database, email)
    nowhere = smtp_settings.model_copy(
        update={"mail": smtp_settings.mail.model_copy(update={"smtp_port": free_port()})}
    )
    with pytest.raises(OSError, match=r".+"):
        await deliver_pending(any_database, settings=nowhere)
    assert (await list_outbox(any_database, recipient=email))[0].sent_at is None
