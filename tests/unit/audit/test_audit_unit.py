"""The audit context's pure parts: actors, cursors, the ORM's append-only guard."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

import pytest

from folio.audit.api import actor_of
from folio.audit.models import AuditEvent, AuditTrailImmutableError
from folio.audit.service import decode_cursor, encode_cursor
from folio.core.errors import InvalidCursorError
from folio.core.security import Principal, Role

pytestmark = pytest.mark.unit


def test_actor_of_a_member_is_the_user() -> None:
    """A principal with a user acts as that user."""
    user = uuid.uuid4()
    principal = Principal(tenant_id=uuid.uuid4(), role=Role.STAFF, user_id=user, via="token")
    assert actor_of(principal) == ("user", user)


def test_actor_of_an_api_key_is_the_key() -> None:
    """A principal authenticated by an API key acts as that key."""
    key = uuid.uuid4()
    principal = Principal(tenant_id=uuid.uuid4(), role=Role.ADMIN, api_key_id=key, via="api_key")
    assert actor_of(principal) == ("api_key", key)


def test_cursor_round_trips() -> None:
    """A cursor decodes to the position it was made from, in UTC."""
    at = dt.datetime(2026, 11, 22, 9, 30, 0, 123456, tzinfo=dt.UTC)
    event_id = uuid.uuid4()
    assert decode_cursor(encode_cursor(at, event_id)) == (at, event_id)


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        base64.urlsafe_b64encode(b"2026-11-22T09:30:00|nothex").decode(),
        base64.urlsafe_b64encode(f"2026-11-22T09:30:00|{uuid.uuid4().hex}".encode()).decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
    ids=["garbage", "bad-id", "naive-time", "not-utf8"],
)
def test_malformed_cursor_is_an_invalid_cursor_problem(cursor: str) -> None:
    """A cursor this API did not make is a 400 `invalid-cursor`, never a 500."""
    with pytest.raises(InvalidCursorError) as caught:
        decode_cursor(cursor)
    assert caught.value.status == 400


def test_audit_guard_is_registered() -> None:
    """The append-only error is a runtime error code can catch by name."""
    assert issubclass(AuditTrailImmutableError, RuntimeError)
    assert AuditEvent.__tablename__ == "audit_events"


def test_public_surface() -> None:
    """folio.audit.api exports exactly what other contexts and entry points may use."""
    import folio.audit.api

    assert sorted(folio.audit.api.__all__) == [
        "ActorKind",
        "AuditEventRead",
        "AuditPage",
        "actor_of",
        "list_events",
        "list_tenant_events",
        "record_event",
    ]
