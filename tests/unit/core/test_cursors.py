"""Signed cursors: round trip, and every tampering refused as ``InvalidCursorError``."""

from __future__ import annotations

import pytest

from folio.core.cursors import MAX_CURSOR_LENGTH, SignedCursorCodec
from folio.core.errors import InvalidCursorError

pytestmark = pytest.mark.unit


def test_round_trip() -> None:
    """A payload comes back as it went in."""
    codec = SignedCursorCodec("secret", purpose="catalog.listings")
    payload = {"k": "2026-11-22T10:00:00+00:00", "i": "ab" * 16}
    assert codec.decode(codec.encode(payload)) == payload


def test_tampered_foreign_and_garbage_cursors_are_refused() -> None:
    """Edited payloads, other purposes or secrets, garbage and overlong cursors are all 400s."""
    codec = SignedCursorCodec("secret", purpose="catalog.listings")
    cursor = codec.encode({"i": 1})
    body, _, mac = cursor.partition(".")
    forged = SignedCursorCodec("secret", purpose="catalog.listings").encode({"i": 2}).partition(".")[0]
    for bad in (
        f"{forged}.{mac}",
        SignedCursorCodec("secret", purpose="tasks").encode({"i": 1}),
        SignedCursorCodec("other", purpose="catalog.listings").encode({"i": 1}),
        "not-a-cursor",
        "",
        "x" * (MAX_CURSOR_LENGTH + 1),
        f"{body}",
    ):
        with pytest.raises(InvalidCursorError):
            codec.decode(bad)


def test_a_signed_non_object_payload_is_refused() -> None:
    """Only JSON objects are payloads, even when the signature is right."""
    codec = SignedCursorCodec("secret", purpose="p")
    import base64
    import hashlib
    import hmac

    raw = b"[1,2]"
    key = hashlib.sha256(b"folio.cursor:p:" + b"secret").digest()
    mac = hmac.new(key, raw, hashlib.sha256).digest()[:16]

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    with pytest.raises(InvalidCursorError):
        codec.decode(f"{b64(raw)}.{b64(mac)}")
