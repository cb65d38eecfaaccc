"""The audit context's DTOs: what an audit event looks like from the outside."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from folio.core.text import CleanText

__all__ = ["ActorKind", "AuditCursor", "AuditEventRead", "AuditFilterText", "AuditPage"]

ActorKind = Literal["user", "api_key", "anonymous", "system"]
"""Who acted: a member, an API key, someone not logged in (a failed login), or Folio itself."""

AuditFilterText = Annotated[str, CleanText(max_length=80)]
"""A filter value of the audit list (action, entity type, entity id): one clean line."""

AuditCursor = Annotated[str, CleanText(max_length=2048)]
"""The ``next_cursor`` of a previous page, as sent back."""


class AuditEventRead(BaseModel):
    """One recorded state change."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The event's id.", examples=["0b8c3d52-8f5e-4f57-9c1c-1d2b0f3c4a5e"])
    occurred_at: dt.datetime = Field(
        description="When it happened (UTC).", examples=["2026-11-22T09:30:00.123456Z"]
    )
    actor_kind: ActorKind = Field(description="What kind of actor acted.", examples=["user"])
    actor_id: uuid.UUID | None = Field(
        description="The user or API key that acted; null for anonymous and system actors.",
        examples=["5f1f7d0e-3c1a-4a43-9a57-4e2f5c6d7e8f"],
    )
    action: str = Field(description="What was done, `<entity>.<past tense>`.", examples=["task.updated"])
    entity_type: str = Field(description="The kind of thing it was done to.", examples=["task"])
    entity_id: str | None = Field(
        description="The thing's id, when it has one.", examples=["8d3e2f1a-6b7c-4d8e-9f0a-1b2c3d4e5f60"]
    )
    before: dict[str, Any] | None = Field(
        description="The thing's state before the change (null for creations).",
        examples=[{"status": "todo"}],
    )
    after: dict[str, Any] | None = Field(
        description="The thing's state after the change (null for deletions).",
        examples=[{"status": "done"}],
    )
    correlation_id: str | None = Field(
        description="The request that made the change; matches the `X-Request-ID` it answered with.",
        examples=["f3a9c1d2e4b5"],
    )


class AuditPage(BaseModel):
    """A page of events, newest first, and the cursor of the next (older) page."""

    items: list[AuditEventRead] = Field(description="The events, newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next, older page; null on the last page.",
        examples=["MjAyNi0xMS0yMlQwOTozMDowMC4xMjM0NTYrMDA6MDB8MGI4YzNkNTI"],
    )
