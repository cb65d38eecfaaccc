"""The outbox: queued in the caller's transaction, read newest first."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import Database
from folio.core.settings import Settings
from folio.mail.api import deliver_pending, get_mail, list_outbox, queue_mail
from tests.support.identity import unique_email

pytestmark = pytest.mark.integration


async def _queue(db: Database, recipient: str, subject: str) -> None:
    async def work(session: AsyncSession) -> None:
        await queue_mail(
            session, recipient=recipient, subject=subject, body=f"Body of {subject}", kind="test"
        )

    await db.run(work)


async def test_queued_mail_is_listed_newest_first(any_database: Database) -> None:
    """Mails come back newest first, filtered by recipient (any case), limited."""
    ada, bob = unique_email("ada"), unique_email("bob")
    for n in range(3):
        await _queue(any_database, ada.upper(), f"for ada {n}")
    await _queue(any_database, bob, "for bob")
    mails = await list_outbox(any_database, recipient=ada)
    assert [mail.subject for mail in mails] == ["for ada 2", "for ada 1", "for ada 0"]
    assert {mail.recipient for mail in mails} == {ada}
    assert [
        mail.subject for mail in await list_outbox(any_database, recipient=f" {ada.upper()} ", limit=1)
    ] == ["for ada 2"]
    newest = await list_outbox(any_database, limit=1)
    assert newest[0].subject == "for bob"
    assert newest[0].sent_at is None


async def test_mail_is_written_only_if_the_transaction_commits(any_database: Database) -> None:
    """A unit of work that fails leaves no mail behind."""
    email = unique_email()

    async def work(session: AsyncSession) -> None:
        await queue_mail(session, recipient=email, subject="never", body="-", kind="test")
        raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await any_database.run(work)
    assert await list_outbox(any_database, recipient=email) == []


async def test_one_mail_by_id(any_database: Database) -> None:
    """``get_mail`` finds a mail by id, and None for an unknown id."""
    email = unique_email()
    await _queue(any_database, email, "hello")
    [mail] = await list_outbox(any_database, recipient=email)
    found = await get_mail(any_database, mail.id)
    assert found is not None
    assert found.body == "Body of hello"
    assert await get_mail(any_database, uuid.uuid4()) is None


async def test_outbox_backend_delivers_nothing(any_database: Database, settings: Settings) -> None:
    """With ``mail.backend = outbox`` mail stays where it is."""
    outbox = settings.model_copy(update={"mail": settings.mail.model_copy(update={"backend": "outbox"})})
    email = unique_email()
    await _queue(any_database, email, "stays")
    assert await deliver_pending(any_database, settings=outbox) == 0
    assert (await list_outbox(any_database, recipient=email))[0].sent_at is None
