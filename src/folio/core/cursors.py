"""Signed, opaque pagination cursors: a small JSON payload plus an HMAC, checked on the way back in.

Wire form: ``base64url(json payload) "." base64url(hmac)``, unpadded. The MAC is keyed
from the platform secret and a ``purpose`` (``"catalog.listings"``), so a cursor
issued for one list never verifies for another, nor as anything else the secret
signs. Whatever does not verify and decode is an ``InvalidCursorError`` (400
``invalid-cursor``), never a 500. What the payload means (a sort key, an id) is the
caller's business: this module only signs and checks it (``folio.tasks.cursor`` gives it
its own meaning). The common position, newest first by a timestamp with ties broken on an
id, has its codec here (``KeysetCursorCodec``): the catalogue's listings and the audit
trail page with it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import uuid
from typing import Any

from folio.core.errors import InvalidCursorError

__all__ = ["MAX_CURSOR_LENGTH", "KeysetCursorCodec", "SignedCursorCodec"]

MAX_CURSOR_LENGTH = 2048
"""Longest cursor accepted; anything longer is refused before any decoding."""


_NOT_ISSUED = "the cursor is not one this API issued (or it was changed); start again without a cursor"


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SignedCursorCodec:
    """Signs JSON-able payloads into cursor strings and verifies them back; one per secret and purpose."""

    def __init__(self, secret: str, *, purpose: str) -> None:
        self._key = hashlib.sha256(f"folio.cursor:{purpose}:".encode() + secret.encode()).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    def encode(self, payload: dict[str, Any]) -> str:
        """The cursor string carrying ``payload`` (which must be JSON-serialisable)."""
        raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64encode(raw)}.{_b64encode(self._mac(raw))}"

    def _verified(self, cursor: str) -> dict[str, Any]:
        """Verify and decode; raises ``ValueError`` (or a kin) on anything amiss."""
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        body, _, mac = cursor.partition(".")
        raw = _b64decode(body)
        if not hmac.compare_digest(_b64decode(mac), self._mac(raw)):
            raise ValueError("bad signature")
        payload = json.loads(raw)
        if not isinstance(payload, dict):
            raise TypeError("the payload is an object")
        return payload

    def decode(self, cursor: str) -> dict[str, Any]:
        """The payload of a cursor this codec issued; ``InvalidCursorError`` for anything else."""
        try:
            payload = self._verified(cursor)
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidCursorError(_NOT_ISSUED) from exc
        return payload


class KeysetCursorCodec:
    """Signed cursors naming a row by ``(timestamp, id)``: the position of a list ordered by both.

    The payload is ``{"k": <ISO timestamp with its zone>, "i": <id hex>}``; the timestamp
    is kept in UTC. Anything else, or a cursor signed for another ``purpose``, is an
    ``InvalidCursorError``.
    """

    def __init__(self, secret: str, *, purpose: str) -> None:
        self._signed = SignedCursorCodec(secret, purpose=purpose)

    def encode(self, at: dt.datetime, row_id: uuid.UUID) -> str:
        """The cursor that resumes after the row at ``(at, row_id)``; ``at`` carries its zone."""
        return self._signed.encode({"k": at.astimezone(dt.UTC).isoformat(), "i": row_id.hex})

    def decode(self, cursor: str) -> tuple[dt.datetime, uuid.UUID]:
        """The ``(timestamp, id)`` a cursor of this codec names; ``InvalidCursorError`` otherwise."""
        payload = self._signed.decode(cursor)
        try:
            at = dt.datetime.fromisoformat(str(payload["k"]))
            row_id = uuid.UUID(hex=str(payload["i"]))
        except (KeyError, ValueError) as exc:
            raise InvalidCursorError(_NOT_ISSUED) from exc
        if at.tzinfo is None:
            raise InvalidCursorError(_NOT_ISSUED)
        return at, row_id
