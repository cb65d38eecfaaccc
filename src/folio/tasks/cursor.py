"""Keyset cursors for v2 task lists: opaque to clients, checked on the way back in.

A cursor names the last task a page showed by its position in the order: the sort,
that task's sort key and its id. The next page is every task strictly after that
position, so rows inserted or deleted between requests never shift the pages
(offset pagination would skip or repeat rows).

Wire form: ``base64url(json payload) "." base64url(hmac)``, unpadded. The HMAC (keyed
from ``security.secret_key``) makes the cursor opaque in the sense that matters: a
client cannot forge or edit one; anything that does not verify and decode is an
``InvalidCursorError`` (400 ``invalid-cursor``), never a 500.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any

from folio.core.errors import InvalidCursorError
from folio.tasks.schemas import TaskSort

__all__ = ["CursorCodec", "CursorPosition", "InvalidCursorError", "SortKey"]

SortKey = dt.datetime | dt.date | int | str
"""The value a task sorts by: created_at, due date (with a sentinel for none), priority rank, title."""

_KEY_TYPES: dict[str, type] = {"created_at": dt.datetime, "due_date": dt.date, "priority": int, "title": str}
_MAX_CURSOR_LENGTH = 2048


@dataclass(frozen=True)
class CursorPosition:
    """Where a page ended: the order, and the last task's sort key and id."""

    sort: TaskSort
    key: SortKey
    task_id: uuid.UUID


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


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
        # A key of its own, derived from the platform secret: a cursor's MAC is never
        # valid as anything else the secret signs (sessions, tokens).
        self._key = hashlib.sha256(b"folio.tasks.cursor:" + secret.encode()).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    def encode(self, position: CursorPosition) -> str:
        """The cursor string for ``position``."""
        payload = json.dumps(
            {"s": position.sort.value, "k": _encode_key(position.key), "i": position.task_id.hex},
            separators=(",", ":"),
        ).encode()
        return f"{_b64encode(payload)}.{_b64encode(self._mac(payload))}"

    def _parse(self, cursor: str) -> CursorPosition:
        """Verify and decode; raises ``ValueError`` (or a kin) on anything amiss."""
        if len(cursor) > _MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        body, _, mac = cursor.partition(".")
        payload = _b64decode(body)
        if not hmac.compare_digest(_b64decode(mac), self._mac(payload)):
            raise ValueError("bad signature")
        data: Any = json.loads(payload)
        sort = TaskSort(data["s"])
        return CursorPosition(sort=sort, key=_decode_key(sort, data["k"]), task_id=uuid.UUID(hex=data["i"]))

    def decode(self, cursor: str, *, sort: TaskSort) -> CursorPosition:
        """The position ``cursor`` names; ``InvalidCursorError`` unless intact and for ``sort``."""
        try:
            position = self._parse(cursor)
        except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidCursorError(
                "the cursor is not one this API issued (or it was changed); start again without a cursor"
            ) from exc
        if position.sort is not sort:
            raise InvalidCursorError(
                f"the cursor belongs to sort {position.sort.value!r}, not {sort.value!r}; "
                "keep the sort while paging, or start again without a cursor"
            )
        return position
