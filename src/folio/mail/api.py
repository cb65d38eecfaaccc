"""The mail context's public surface: what other contexts and entry points may import.

Key contracts: ``queue_mail(session, ...)`` writes in the caller's transaction;
``deliver_pending`` sends (backend ``smtp``) after commit, at least once;
``list_outbox``/``get_mail`` read what was queued (``folio mail outbox``).
"""

from __future__ import annotations

from folio.mail.schemas import MailRead
from folio.mail.service import deliver_pending, get_mail, list_outbox, queue_mail

__all__ = ["MailRead", "deliver_pending", "get_mail", "list_outbox", "queue_mail"]
