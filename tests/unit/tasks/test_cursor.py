"""Keyset cursors: they round-trip, and anything edited, forged or foreign is a 400 problem."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

import pytest

from folio.core.cursors import SignedCursorCodec
from folio.tasks.cursor import CursorCodec, CursorPosition, InvalidCursorError, SortKey
from folio.tasks.schemas import TaskSort

pytestmark = pytest.mark.unit

SECRET = "test-secret"
CODEC = CursorCodec(SECRET)


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        (TaskSort.CREATED_AT_DESC, dt.datetime(2026, 11, 1, 9, 30, 0, 123456, tzinfo=dt.UTC)),
        (TaskSort.DUE_DATE, dt.date(2026, 12, 1)),
        (TaskSort.PRIORITY_DESC, 3),
        (TaskSort.TITLE, "reorder paperbacks ü"),
    ],
)
def test_round_trip(sort: TaskSort, key: SortKey) -> None:
    """Every kind of sort key comes back exactly as it went in."""
    position = CursorPosition(sort=sort, key=key, task_id=uuid.uuid4())
    cursor = CODEC.encode(position)
    assert "=" not in cursor
    assert CODEC.decode(cursor, sort=sort) == position


def _forge(payload: dict[str, object]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    return f"{body}.AAAAAAAAAAAAAAAAAAAAAA"


def _cursor() -> str:
    return CODEC.encode(CursorPosition(sort=TaskSort.TITLE, key="b", task_id=uuid.uuid4()))


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not-a-cursor",
        "%%%.%%%",
        "é.é",
        _cursor()[:-2],
        _cursor().replace(".", ".x"),
        _cursor() + "x" * 3000,
        _forge({"s": "title", "k": "a", "i": uuid.uuid4().hex}),
        CursorCodec("another-secret").encode(
            CursorPosition(sort=TaskSort.TITLE, key="b", task_id=uuid.uuid4())
        ),
    ],
)
def test_tampered_or_forged_cursors_are_refused(cursor: str) -> None:
    """Garbage, truncation, edits, oversize cursors and other deployments' cursors are all invalid."""
    with pytest.raises(InvalidCursorError) as caught:
        CODEC.decode(cursor, sort=TaskSort.TITLE)
    assert caught.value.status == 400
    assert caught.value.code == "invalid-cursor"


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        (TaskSort.PRIORITY, "3"),
        (TaskSort.PRIORITY, True),
        (TaskSort.CREATED_AT, "2026-11-01T09:00:00"),
        (TaskSort.DUE_DATE, 5),
        (TaskSort.TITLE, 1),
    ],
)
def test_well_signed_but_malformed_keys_are_refused(sort: TaskSort, key: object) -> None:
    """A signed payload whose key has the wrong type (or a naive timestamp) is still invalid."""
    signed = SignedCursorCodec(SECRET, purpose="tasks").encode(
        {"s": sort.value, "k": key, "i": uuid.uuid4().hex}
    )
    with pytest.raises(InvalidCursorError):
        CODEC.decode(signed, sort=sort)


def test_cursor_of_another_sort_is_refused() -> None:
    """A cursor made for one order cannot page another."""
    with pytest.raises(InvalidCursorError, match="belongs to sort"):
        CODEC.decode(_cursor(), sort=TaskSort.TITLE_DESC)
