"""Signed cursors: round trip, and every tampering refused as ``InvalidCursorError``; keyset positions."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from folio.core.cursors import MAX_CURSOR_LENGTH, KeysetCursorCodec, SignedCursorCodec
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


def test_keyset_position_round_trips_in_utc() -> None:
    """A (timestamp, id) position comes back as it went in, its timestamp in UTC."""
    codec = KeysetCursorCodec("secret", purpose="audit.events")
    at = dt.datetime(2026, 11, 22, 11, 30, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    row_id = uuid.uuid4()
    decoded_at, decoded_id = codec.decode(codec.encode(at, row_id))
    assert (decoded_at, decoded_id) == (at, row_id)
    assert decoded_at.utcoffset() == dt.timedelta(0)


def test_keyset_cursor_keeps_the_listings_wire_form() -> None:
    """The payload is the catalogue's (``k``, ``i``), so a listings cursor issued before still pages."""
    at, row_id = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC), uuid.uuid4()
    before = SignedCursorCodec("secret", purpose="catalog.listings").encode(
        {"k": at.isoformat(), "i": row_id.hex}
    )
    assert KeysetCursorCodec("secret", purpose="catalog.listings").decode(before) == (at, row_id)


@pytest.mark.parametrize(
    "payload",
    [
        {"k": "2026-11-22T10:00:00", "i": "ab" * 16},
        {"k": "yesterday", "i": "ab" * 16},
        {"k": "2026-11-22T10:00:00+00:00", "i": "not hex"},
        {"k": "2026-11-22T10:00:00+00:00"},
    ],
    ids=["naive-time", "not-a-time", "bad-id", "no-id"],
)
def test_signed_but_meaningless_keyset_payloads_are_refused(payload: dict[str, object]) -> None:
    """A payload signed with the right key but not a position is still ``InvalidCursorError``."""
    cursor = SignedCursorCodec("secret", purpose="audit.events").encode(payload)
    with pytest.raises(InvalidCursorError):
        KeysetCursorCodec("secret", purpose="audit.events").decode(cursor)


def test_keyset_cursor_of_another_purpose_is_refused() -> None:
    """A position signed for one list does not page another."""
    cursor = KeysetCursorCodec("secret", purpose="catalog.listings").encode(
        dt.datetime.now(dt.UTC), uuid.uuid4()
    )
    with pytest.raises(InvalidCursorError):
        KeysetCursorCodec("secret", purpose="audit.events").decode(cursor)
