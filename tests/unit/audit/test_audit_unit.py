"""The audit context's pure parts: actors, cursors, the ORM's append-only guard."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

import pytest

from folio.audit.api import actor_of
from folio.audit.models import AuditEvent, AuditTrailImmutableError
from folio.audit.service import cursor_codec
from folio.core.cursors import KeysetCursorCodec
from folio.core.errors import InvalidCursorError
from folio.core.security import Principal, Role
from folio.core.settings import Settings

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


def test_cursor_round_trips(settings: Settings) -> None:
    """A cursor decodes to the position it was made from, in UTC."""
    at = dt.datetime(2026, 11, 22, 9, 30, 0, 123456, tzinfo=dt.UTC)
    event_id = uuid.uuid4()
    codec = cursor_codec(settings)
    assert codec.decode(codec.encode(at, event_id)) == (at, event_id)


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
def test_malformed_cursor_is_an_invalid_cursor_problem(cursor: str, settings: Settings) -> None:
    """A cursor this API did not make is a 400 `invalid-cursor`, never a 500."""
    with pytest.raises(InvalidCursorError) as caught:
        cursor_codec(settings).decode(cursor)
    assert caught.value.status == 400


def test_an_unsigned_cursor_of_old_is_refused(settings: Settings) -> None:
    """A well-formed cursor of the unsigned kind the trail issued before is the same 400 `invalid-cursor`."""
    old = base64.urlsafe_b64encode(f"2026-11-22T09:30:00+00:00|{uuid.uuid4().hex}".encode()).decode()
    with pytest.raises(InvalidCursorError) as caught:
        cursor_codec(settings).decode(old.rstrip("="))
    assert (caught.value.status, caught.value.code) == (400, "invalid-cursor")


def test_a_cursor_of_another_list_is_refused(settings: Settings) -> None:
    """A listings cursor, signed with the same secret for another list, does not page the trail."""
    foreign = KeysetCursorCodec(settings.security.secret_key.get_secret_value(), purpose="catalog.listings")
    with pytest.raises(InvalidCursorError):
        cursor_codec(settings).decode(foreign.encode(dt.datetime.now(dt.UTC), uuid.uuid4()))


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
        "record_change_event",
        "record_event",
    ]
