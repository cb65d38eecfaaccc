"""The tasks context's DTOs: what comes in (create, update, filter) and what goes out (read, pages).

The v1 shapes are the service's own language (``notes`` as in the table); the v2
shapes (``*V2``) differ only in naming ``notes`` ``description`` and are translated in
the HTTP adapter, so the service never knows which API version called it.

Tag rule (one place, used by validation and by the ``tasks-0001`` data migration):
tags are trimmed, lower-cased and de-duplicated in order; empty ones are dropped.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from folio.core.paging import CursorPage, Page
from folio.core.text import CleanText

__all__ = [
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "PRIORITY_RANK",
    "TaskCreate",
    "TaskCreateV2",
    "TaskCursorPage",
    "TaskFilter",
    "TaskPage",
    "TaskPriority",
    "TaskRead",
    "TaskReadV2",
    "TaskSlice",
    "TaskSort",
    "TaskStatus",
    "TaskUpdate",
    "TaskUpdateV2",
    "normalise_tags",
]

MAX_TAGS = 20
"""Most tags one task may carry."""

MAX_TAG_LENGTH = 40
"""Longest tag, in characters, after normalisation."""

MAX_NOTES_LENGTH = 10_000
"""Longest notes (v2: description), in characters."""


class TaskStatus(StrEnum):
    """Where a task stands."""

    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class TaskPriority(StrEnum):
    """How urgent a task is; sorts low < normal < high < urgent."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


PRIORITY_RANK: dict[str, int] = {priority.value: rank for rank, priority in enumerate(TaskPriority)}
"""Sort rank of each priority (low 0 ... urgent 3); sorting by the word would put high before low."""


class TaskSort(StrEnum):
    """The orders a task list may be sorted in (``-`` = descending); ties always break on id."""

    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"
    DUE_DATE = "due_date"
    DUE_DATE_DESC = "-due_date"
    PRIORITY = "priority"
    PRIORITY_DESC = "-priority"
    TITLE = "title"
    TITLE_DESC = "-title"

    @property
    def field(self) -> str:
        """The field sorted on, without the direction."""
        return self.value.removeprefix("-")

    @property
    def descending(self) -> bool:
        """Whether the order is descending."""
        return self.value.startswith("-")


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """Trim and lower-case each tag, drop empty ones and duplicates, keep first-seen order."""
    seen: dict[str, None] = {}
    for tag in tags:
        cleaned = tag.strip().lower()
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


def _check_tags(tags: list[str]) -> list[str]:
    normalised = normalise_tags(tags)
    if len(normalised) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags, got {len(normalised)}")
    too_long = [tag for tag in normalised if len(tag) > MAX_TAG_LENGTH]
    if too_long:
        raise ValueError(f"tags are at most {MAX_TAG_LENGTH} characters: {too_long[0][:50]!r}")
    return normalised


def _check_title(title: str) -> str:
    # Line breaks and other controls are refused before this (core.text): spaces remain.
    stripped = title.strip()
    if not stripped:
        raise ValueError("the title must not be blank")
    return stripped


Title = Annotated[
    str,
    CleanText(not_blank=True, min_length=1, max_length=200),
    Field(
        description="What is to be done; surrounding spaces are trimmed, blank is refused.",
        examples=["Reorder Moomin paperbacks"],
    ),
]
Notes = Annotated[
    str,
    CleanText(multiline=True, max_length=MAX_NOTES_LENGTH),
    Field(
        description="Free-text details.",
        examples=["Ask the distributor about the winter edition."],
    ),
]
Tags = Annotated[
    list[Annotated[str, CleanText(max_length=MAX_TAG_LENGTH)]],
    Field(
        max_length=MAX_TAGS,
        description=(
            f"Labels; trimmed, lower-cased and de-duplicated, at most {MAX_TAGS} of at most "
            f"{MAX_TAG_LENGTH} characters each once normalised."
        ),
        examples=[["orders", "children"]],
    ),
]
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_only(value: object) -> object:
    # Pydantic's lax mode also reads numbers ("0", 0) as Unix timestamps; the schema
    # promises `format: date`, so anything but YYYY-MM-DD is refused, as documented.
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("expected a date as YYYY-MM-DD")
    if isinstance(value, int | float):
        raise ValueError("expected a date as YYYY-MM-DD, not a number")  # noqa: TRY004 - pydantic reports only ValueError
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]
"""A calendar day, accepted only as ``YYYY-MM-DD`` (or a ``date``)."""

DueDate = Annotated[IsoDate | None, Field(description="The day it is due, if any.", examples=["2026-12-01"])]
AssigneeId = Annotated[
    uuid.UUID | None,
    Field(
        description=(
            "The member responsible. Must be a member of the shop; customers may only assign themselves."
        ),
        examples=["6f1c2d7e-3b7a-4a52-9d1e-0c5f4b8a9e21"],
    ),
]


ExpectedVersion = Annotated[
    Annotated[int, Field(ge=1)] | SkipJsonSchema[None],
    Field(
        description="The version the client last read; the update fails with 409 if the task has moved on.",
        examples=[3],
    ),
]
"""The optional ``version`` of an update (v1 and v2): the optimistic check's body half."""


# --- input ------------------------------------------------------------------------------------


class _CreateRules(BaseModel):
    """Validation shared by ``TaskCreate`` and ``TaskCreateV2``."""

    model_config = ConfigDict(extra="forbid")

    _title = field_validator("title", check_fields=False)(_check_title)
    _tags = field_validator("tags", check_fields=False)(_check_tags)


class _UpdateRules(BaseModel):
    """Validation shared by ``TaskUpdate`` and ``TaskUpdateV2``."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("title", check_fields=False)
    @classmethod
    def _title_not_blank(cls, title: str | None) -> str | None:
        return None if title is None else _check_title(title)

    @field_validator("tags", check_fields=False)
    @classmethod
    def _tags_normalised(cls, tags: list[str] | None) -> list[str] | None:
        return None if tags is None else _check_tags(tags)

    @model_validator(mode="after")
    def _no_null_for_required_fields(self) -> Self:
        nullable = {"due_date", "assignee_id"}
        nulled = [name for name in sorted(self.model_fields_set - nullable) if getattr(self, name) is None]
        if nulled:
            raise ValueError(f"{', '.join(nulled)} may be left out but not set to null")
        return self


class TaskCreate(_CreateRules):
    """A new task (v1 field names)."""

    title: Title
    notes: Notes = ""
    status: TaskStatus = Field(default=TaskStatus.TODO, description="Where the task stands.")
    priority: TaskPriority = Field(default=TaskPriority.NORMAL, description="How urgent it is.")
    due_date: DueDate = None
    tags: Tags = Field(default_factory=list)
    assignee_id: AssigneeId = None


class TaskUpdate(_UpdateRules):
    """Changes to a task (v1 field names): only the fields sent change.

    ``due_date`` and ``assignee_id`` may be sent as ``null`` to clear them; the other
    fields may be left out but not nulled. ``version`` (or the ``If-Match`` header)
    makes the update conditional: it fails with 409 if the task changed since.
    """

    # SkipJsonSchema[None]: the schema says "a string, optional", not "nullable";
    # an explicit null is refused below (PATCH semantics: absent = unchanged).
    title: Title | SkipJsonSchema[None] = None
    notes: Notes | SkipJsonSchema[None] = None
    status: TaskStatus | SkipJsonSchema[None] = Field(default=None, description="Where the task stands.")
    priority: TaskPriority | SkipJsonSchema[None] = Field(default=None, description="How urgent it is.")
    due_date: DueDate = None
    tags: Tags | SkipJsonSchema[None] = None
    assignee_id: AssigneeId = None
    version: ExpectedVersion = None

    def changes(self) -> dict[str, Any]:
        """The fields the client sent (``version`` excluded), by column name."""
        return {name: getattr(self, name) for name in self.model_fields_set if name != "version"}


class TaskCreateV2(_CreateRules):
    """A new task (v2: ``description`` instead of ``notes``)."""

    title: Title
    description: Notes = ""
    status: TaskStatus = Field(default=TaskStatus.TODO, description="Where the task stands.")
    priority: TaskPriority = Field(default=TaskPriority.NORMAL, description="How urgent it is.")
    due_date: DueDate = None
    tags: Tags = Field(default_factory=list)
    assignee_id: AssigneeId = None

    def to_v1(self) -> TaskCreate:
        """The same task in the service's (v1) language."""
        data = self.model_dump(exclude={"description"})
        return TaskCreate.model_validate({**data, "notes": self.description})


class TaskUpdateV2(_UpdateRules):
    """Changes to a task (v2: ``description`` instead of ``notes``); same rules as ``TaskUpdate``."""

    title: Title | SkipJsonSchema[None] = None
    description: Notes | SkipJsonSchema[None] = None
    status: TaskStatus | SkipJsonSchema[None] = Field(default=None, description="Where the task stands.")
    priority: TaskPriority | SkipJsonSchema[None] = Field(default=None, description="How urgent it is.")
    due_date: DueDate = None
    tags: Tags | SkipJsonSchema[None] = None
    assignee_id: AssigneeId = None
    version: ExpectedVersion = None

    def to_v1(self) -> TaskUpdate:
        """The same changes in the service's (v1) language."""
        sent = {name: getattr(self, name) for name in self.model_fields_set}
        if "description" in sent:
            sent["notes"] = sent.pop("description")
        return TaskUpdate.model_validate(sent)


class TaskFilter(BaseModel):
    """Which tasks a list shows; every condition given must hold."""

    status: TaskStatus | None = Field(default=None, description="Only tasks in this status.")
    priority: TaskPriority | None = Field(default=None, description="Only tasks of this priority.")
    tag: Annotated[str, CleanText(max_length=MAX_TAG_LENGTH)] | None = Field(
        default=None,
        description="Only tasks carrying this tag (compared normalised: trimmed, lower-case).",
        examples=["orders"],
    )
    assignee_id: uuid.UUID | Literal["me"] | None = Field(
        default=None,
        description="Only tasks assigned to this member; `me` for the caller (not for API keys).",
        examples=["me"],
    )
    q: Annotated[str, CleanText(max_length=200)] | None = Field(
        default=None,
        description="Only tasks whose title or notes contain this text (case-insensitive, literal).",
        examples=["moomin"],
    )
    due_before: IsoDate | None = Field(
        default=None, description="Only tasks due on or before this day (tasks with no due date never match)."
    )
    due_after: IsoDate | None = Field(
        default=None, description="Only tasks due on or after this day (tasks with no due date never match)."
    )

    @field_validator("tag")
    @classmethod
    def _tag_normalised(cls, tag: str | None) -> str | None:
        if tag is None:
            return None
        normalised = normalise_tags([tag])
        return normalised[0] if normalised else None


# --- output -----------------------------------------------------------------------------------


class _TaskReadBase(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The task's id.")
    title: str = Field(description="What is to be done.", examples=["Reorder Moomin paperbacks"])
    status: TaskStatus = Field(description="Where the task stands.")
    priority: TaskPriority = Field(description="How urgent it is.")
    due_date: dt.date | None = Field(description="The day it is due, if any.")
    tags: list[str] = Field(description="Normalised labels.", examples=[["orders", "children"]])
    assignee_id: uuid.UUID | None = Field(description="The member responsible, if any.")
    created_by: uuid.UUID = Field(description="The member (or API key) that created the task.")
    created_at: dt.datetime = Field(description="When it was created (UTC).")
    updated_at: dt.datetime = Field(description="When it last changed (UTC).")
    version: int = Field(
        description="Bumped by every change; send it back (or `If-Match`) to update safely.", examples=[1]
    )

    @property
    def etag(self) -> str:
        """The strong entity tag of this version: ``"<version>"``."""
        return f'"{self.version}"'


class TaskRead(_TaskReadBase):
    """A task as API v1 shows it."""

    notes: str = Field(description="Free-text details.")


class TaskReadV2(_TaskReadBase):
    """A task as API v2 shows it: ``notes`` is called ``description``."""

    description: str = Field(description="Free-text details (v1: `notes`).")

    @classmethod
    def from_v1(cls, task: TaskRead) -> TaskReadV2:
        """Rename the fields of a v1 read."""
        data = task.model_dump(exclude={"notes"})
        return cls.model_validate({**data, "description": task.notes})


class TaskPage(Page[TaskRead]):
    """One page of a task list (v1, numbered pages)."""


class TaskSlice(BaseModel):
    """A run of tasks after a keyset cursor: the service's answer to ``list_tasks_after``."""

    items: list[TaskRead] = Field(description="The tasks, in the requested order.")
    next_cursor: str | None = Field(description="Pass it back to get the following tasks; None at the end.")
    has_more: bool = Field(description="Whether more tasks follow.")


class TaskCursorPage(CursorPage[TaskReadV2]):
    """One page of a task list (v2, keyset cursor)."""

    @classmethod
    def from_slice(cls, tasks: TaskSlice) -> TaskCursorPage:
        """The v2 page for a service slice."""
        return cls(
            data=[TaskReadV2.from_v1(task) for task in tasks.items],
            next_cursor=tasks.next_cursor,
            has_more=tasks.has_more,
        )
