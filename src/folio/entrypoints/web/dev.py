"""Developer pages, served only in the ``dev`` and ``test`` profiles: the mail outbox.

With ``mail.backend = "outbox"`` mail stays in the database; this page lists it so a
developer (or a browser test) can follow a reset or invitation link. The blueprint is
not registered in ``prod``, where ``/app/dev/...`` answers 404.
"""

from __future__ import annotations

import re

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape

from folio.core.db import Database, pin_reads_to_primary
from folio.mail import api as mail
from folio.webkit.bridge import portal

__all__ = ["blueprint", "linkify"]

blueprint = Blueprint("dev", __name__)

OUTBOX_LIMIT = 50
"""Newest mails the outbox page lists."""

_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str) -> Markup:
    """``text`` HTML-escaped, with each http(s) URL made a link (the escaping comes first)."""
    escaped = str(escape(text))
    return Markup(_URL.sub(lambda found: f'<a href="{found.group(0)}">{found.group(0)}</a>', escaped))  # noqa: S704 - escaped above


async def _newest_mail(db: Database, *, recipient: str | None) -> list[mail.MailRead]:
    # On the primary: the mail was queued by another session a moment ago (replica lag).
    pin_reads_to_primary()
    return await mail.list_outbox(db, recipient=recipient, limit=OUTBOX_LIMIT)


@blueprint.get("/outbox")
def outbox() -> ResponseReturnValue:
    """The newest mails in the outbox, optionally for one recipient (``?to=``)."""
    recipient = request.args.get("to") or None
    here = portal()
    mails = here.call(_newest_mail, here.database, recipient=recipient)
    return render_template("dev/outbox.html", mails=mails, recipient=recipient, linkify=linkify)
