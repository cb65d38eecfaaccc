"""Mail test fixtures: a real SMTP server (aiosmtpd) in a thread, and settings pointing at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from folio.core.db import read_your_writes_scope
from folio.core.settings import Settings
from tests.conftest import free_port

REFUSED_DOMAIN = "refused.example.com"
"""Recipients at this domain are refused by the test server (550), to test partial batches."""


@dataclass
class Inbox:
    """What the test SMTP server received."""

    messages: list[Message] = field(default_factory=list)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, _server: SMTP, _session: Session, envelope: Envelope, address: str, _options: list[str]
    ) -> str:
        """Accept every recipient except those at ``REFUSED_DOMAIN``."""
        if address.endswith("@" + REFUSED_DOMAIN):
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:  # noqa: N802
        """Keep the message."""
        content = envelope.original_content or b""
        self.messages.append(message_from_bytes(content))
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class SmtpServer:
    """A running test SMTP server."""

    port: int
    inbox: Inbox


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """An SMTP server on 127.0.0.1 (no TLS, no auth) for the test's duration."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(port=port, inbox=inbox)
    finally:
        controller.stop()


@pytest.fixture
def smtp_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    """Settings with ``mail.backend = smtp`` pointing at ``smtp_server`` (no STARTTLS)."""
    mail = settings.mail.model_copy(
        update={
            "backend": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,
            "smtp_starttls": False,
        }
    )
    return settings.model_copy(update={"mail": mail})


@pytest.fixture(autouse=True)
async def read_own_writes() -> AsyncIterator[None]:
    """Reads after writes go to the primary (the services' PostgreSQL has a lagging replica)."""
    with read_your_writes_scope():
        yield
