"""Handing mail to an SMTP server with the standard library's ``smtplib`` (blocking: run it in a thread).

One connection per batch: connect, optionally STARTTLS and log in, send each message,
quit. A message the server refuses is reported per message; a connection that fails
fails the batch (its messages stay pending and go with the next one).
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

import structlog

from folio.mail.settings import MailSettings

__all__ = ["OutgoingMail", "build_message", "send_batch"]

log = structlog.get_logger(__name__)

SMTP_TIMEOUT_S = 30.0
"""How long one SMTP command may take before the batch gives up."""


@dataclass(frozen=True)
class OutgoingMail:
    """What a message needs to be sent: the outbox row's id and content."""

    id: str
    recipient: str
    subject: str
    body: str


def build_message(mail: OutgoingMail, *, sender: str) -> EmailMessage:
    """The RFC 5322 message for ``mail``, from ``sender``, its outbox id as ``X-Folio-Mail-Id``."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["X-Folio-Mail-Id"] = mail.id
    message.set_content(mail.body)
    return message


def send_batch(mails: Sequence[OutgoingMail], *, settings: MailSettings) -> list[str]:
    """Send ``mails`` over one SMTP connection; return the ids the server accepted.

    Blocking. Raises ``OSError``/``smtplib.SMTPException`` when the server cannot be
    reached or refuses the session (STARTTLS, login); a single refused recipient only
    leaves that message out of the result.
    """
    sent: list[str] = []
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user is not None and settings.smtp_password is not None:
            smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        for mail in mails:
            try:
                smtp.send_message(build_message(mail, sender=settings.sender))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                log.warning("mail.refused", mail_id=mail.id, error=str(exc)[:300])
                continue
            sent.append(mail.id)
    return sent
