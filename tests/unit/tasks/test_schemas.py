"""Task DTOs: input rules (titles, tags, PATCH nulls), the v2 renaming and page arithmetic."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from folio.tasks.schemas import (
    MAX_TAG_LENGTH,
    MAX_TAGS,
    TaskCreate,
    TaskCreateV2,
    TaskFilter,
    TaskPage,
    TaskRead,
    TaskReadV2,
    TaskSort,
    TaskUpdate,
    TaskUpdateV2,
    normalise_tags,
)
from tests.unit.tasks.builders import make_task

pytestmark = pytest.mark.unit


def test_normalise_tags_trims_lowercases_dedupes_and_drops_empty() -> None:
    """Tags are trimmed, lower-cased, de-duplicated in first-seen order, and empty ones dropped."""
    assert normalise_tags([" Orders", "orders ", "", "  ", "Kids", "ORDERS", "kids"]) == ["orders", "kids"]


def test_create_normalises_tags_and_trims_title() -> None:
    """A new task's title is trimmed and its tags normalised."""
    task = TaskCreate(title="  Reorder  ", tags=["A", "a ", " b"])
    assert task.title == "Reorder"
    assert task.tags == ["a", "b"]


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"title": "   "},
        {"title": "x" * 201},
        {"title": "ok", "tags": ["x" * (MAX_TAG_LENGTH + 1)]},
        {"title": "ok", "tags": [f"t{i}" for i in range(MAX_TAGS + 1)]},
        {"title": "ok", "status": "finished"},
        {"title": "ok", "priority": "critical"},
        {"title": "ok", "due_date": "tomorrow"},
        {"title": "ok", "unknown": 1},
        {"title": "ok\x00"},
        {"title": "ok", "notes": "a\x00b"},
        {"title": "ok", "tags": ["a\x00"]},
    ],
)
def test_create_refuses_bad_bodies(body: dict[str, object]) -> None:
    """Blank or long titles, bad tags, unknown enums, bad dates, extra fields and NUL characters fail."""
    with pytest.raises(ValidationError):
        TaskCreate.model_validate(body)


def test_update_knows_which_fields_were_sent() -> None:
    """Only the fields sent are changes; ``version`` is not a change; nullable fields may be cleared."""
    update = TaskUpdate.model_validate({"status": "done", "due_date": None, "version": 2})
    assert update.changes() == {"status": "done", "due_date": None}
    assert update.version == 2


@pytest.mark.parametrize("field", ["title", "notes", "status", "priority", "tags", "version"])
def test_update_refuses_null_for_non_nullable_fields(field: str) -> None:
    """A PATCH may leave a required field out but not set it to null."""
    with pytest.raises(ValidationError, match="not set to null"):
        TaskUpdate.model_validate({field: None})


def test_v2_update_applies_the_same_rules_and_renames() -> None:
    """v2 updates validate like v1 and translate ``description`` into ``notes``."""
    update = TaskUpdateV2.model_validate({"description": "details", "tags": [" X "]})
    assert update.to_v1().changes() == {"notes": "details", "tags": ["x"]}
    with pytest.raises(ValidationError):
        TaskUpdateV2.model_validate({"description": None})
    with pytest.raises(ValidationError):
        TaskUpdateV2.model_validate({"notes": "v1 name"})


def test_v2_create_renames_description_to_notes() -> None:
    """A v2 create body becomes the same task in v1 terms."""
    v1 = TaskCreateV2(title="t", description="d", tags=["A"]).to_v1()
    assert (v1.title, v1.notes, v1.tags) == ("t", "d", ["a"])


def test_v2_read_renames_notes_to_description() -> None:
    """The v2 read carries ``description`` and no ``notes``."""
    read = TaskRead.model_validate(make_task(notes="details"))
    v2 = TaskReadV2.from_v1(read).model_dump()
    assert v2["description"] == "details"
    assert "notes" not in v2
    assert read.etag == '"1"'


def test_filter_normalises_the_tag_and_accepts_me() -> None:
    """The tag filter compares normalised; ``assignee_id`` takes a UUID or ``me``."""
    assert TaskFilter(tag="  Orders ").tag == "orders"
    assert TaskFilter(tag="   ").tag is None
    assert TaskFilter.model_validate({"assignee_id": "me"}).assignee_id == "me"
    some = uuid.uuid4()
    assert TaskFilter.model_validate({"assignee_id": str(some)}).assignee_id == some


def test_sort_knows_field_and_direction() -> None:
    """Each sort names its field and whether it descends."""
    assert (TaskSort.DUE_DATE_DESC.field, TaskSort.DUE_DATE_DESC.descending) == ("due_date", True)
    assert (TaskSort.TITLE.field, TaskSort.TITLE.descending) == ("title", False)


@pytest.mark.parametrize(("total", "per_page", "pages"), [(0, 20, 0), (1, 20, 1), (20, 20, 1), (21, 20, 2)])
def test_page_counts_pages(total: int, per_page: int, pages: int) -> None:
    """``pages`` is the ceiling of total / per_page, and 0 when nothing matches."""
    assert TaskPage.of([], total=total, page=1, per_page=per_page).pages == pages
