"""The ``mail`` section: outgoing mail, kept in the database's outbox (dev) or sent over SMTP.

A pure declaration: it imports nothing from Folio but the kernel's settings base, so
``folio.core.settings.tree`` composes it into the tree without loading the context.
"""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import LOOPBACK, setting


class MailSettings(FolioSettingsBase):
    """Outgoing mail: a dev outbox in the database, or SMTP."""

    settings_path = ("mail",)

    backend: Literal["outbox", "smtp"] = setting(
        "outbox", description="`outbox` keeps mail in the database for `folio mail outbox`; `smtp` sends it."
    )
    sender: str = setting("Folio <no-reply@folio.localhost>", description="From address of every mail.")
    smtp_host: str = setting(LOOPBACK, description="SMTP server host (backend `smtp`).")
    smtp_port: int = setting(587, ge=1, le=65535, description="SMTP server port.")
    smtp_user: str | None = setting(None, description="SMTP login, if the server wants one.")
    smtp_password: SecretStr | None = setting(None, description="SMTP password.")
    smtp_starttls: bool = setting(default=True, description="Upgrade the SMTP connection with STARTTLS.")
    base_url: str | None = setting(
        None,
        description="Public base URL that links in mails (and payment return pages) point to; unset: the "
        "gateway's own address (`gateway.host`, `gateway.port`).",
    )
