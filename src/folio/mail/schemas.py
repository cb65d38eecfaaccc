"""Mail's DTOs: a message as the outbox holds it."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["MailRead"]


class MailRead(BaseModel):
    """One outgoing mail, sent or waiting."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The message's id.")
    recipient: str = Field(description="Who it is for.", examples=["ada@example.com"])
    subject: str = Field(description="Its subject line.", examples=["Reset your Folio password"])
    body: str = Field(description="Its plain-text body.")
    kind: str = Field(description="What caused it, e.g. `password_reset`.", examples=["password_reset"])
    created_at: dt.datetime = Field(description="When it was queued.")
    sent_at: dt.datetime | None = Field(description="When it was handed to the SMTP server; None until then.")
