"""Keyset cursors for v2 task lists: opaque to clients, checked on the way back in.

A cursor names the last task a page showed by its position in the order: the sort,
that task's sort key and its id. The next page is every task strictly after that
position, so rows inserted or deleted between requests never shift the pages
(offset pagination would skip or repeat rows).

Signing and checking is ``folio.core.cursors.SignedCursorCodec`` (purpose ``tasks``):
a client cannot forge or edit a cursor, and anything that does not verify and decode
is an ``InvalidCursorError`` (400 ``invalid-cursor``), never a 500. This module only
says what a task cursor's payload means.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from folio.core.cursors import SignedCursorCodec
from folio.core.errors import InvalidCursorError
from folio.tasks.schemas import TaskSort

__all__ = ["CursorCodec", "CursorPosition", "InvalidCursorError", "SortKey"]

SortKey = dt.datetime | dt.date | int | str
"""The value a task sorts by: created_at, due date (with a sentinel for none), priority rank, title."""

_KEY_TYPES: dict[str, type] = {"created_at": dt.datetime, "due_date": dt.date, "priority": int, "title": str}


@dataclass(frozen=True)
class CursorPosition:
    """Where a page ended: the order, and the last task's sort key and id."""

    sort: TaskSort
    key: SortKey
    task_id: uuid.UUID


def _encode_key(key: SortKey) -> str | int:
    if isinstance(key, dt.date):  # datetime is a date too: isoformat suits both
        return key.isoformat()
    return key


def _decode_key(sort: TaskSort, raw: object) -> SortKey:
    wanted = _KEY_TYPES[sort.field]
    if wanted is int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        raise TypeError("priority keys are integers")
    if not isinstance(raw, str):
        raise TypeError("the key should be a string")
    if wanted is dt.datetime:
        parsed = dt.datetime.fromisoformat(raw)
        if parsed.tzinfo is None:
            raise ValueError("timestamps carry their zone")
        return parsed
    if wanted is dt.date:
        return dt.date.fromisoformat(raw)
    return raw


class CursorCodec:
    """Encodes positions into signed cursors and back; one per secret."""

    def __init__(self, secret: str) -> None:
        self._signed = SignedCursorCodec(secret, purpose="tasks")

    def encode(self, position: CursorPosition) -> str:
        """The cursor string for ``position``."""
        return self._signed.encode(
            {"s": position.sort.value, "k": _encode_key(position.key), "i": position.task_id.hex}
        )

    def decode(self, cursor: str, *, sort: TaskSort) -> CursorPosition:
        """The position ``cursor`` names; ``InvalidCursorError`` unless intact and for ``sort``."""
        data = self._signed.decode(cursor)
        try:
            found = TaskSort(data["s"])
            position = CursorPosition(
                sort=found, key=_decode_key(found, data["k"]), task_id=uuid.UUID(hex=data["i"])
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidCursorError(
                "the cursor is not one this API issued (or it was changed); start again without a cursor"
            ) from exc
        if position.sort is not sort:
            raise InvalidCursorError(
                f"the cursor belongs to sort {position.sort.value!r}, not {sort.value!r}; "
                "keep the sort while paging, or start again without a cursor"
            )
        return position
