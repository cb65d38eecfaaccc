"""Building the RFC 5322 message for an outbox row."""

from __future__ import annotations

import pytest

from folio.mail.delivery import OutgoingMail, build_message

pytestmark = pytest.mark.unit


def test_message_carries_sender_recipient_subject_body_and_id() -> None:
    """Headers come from the row and the settings; the body is plain text."""
    mail = OutgoingMail(id="m-1", recipient="ada@example.com", subject="Hello", body="Line one\nLine two\n")
    message = build_message(mail, sender="Folio <no-reply@folio.localhost>")
    assert message["From"] == "Folio <no-reply@folio.localhost>"
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Hello"
    assert message["X-Folio-Mail-Id"] == "m-1"
    assert message.get_content() == "Line one\nLine two\n"
