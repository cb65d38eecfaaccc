"""failure_kind: which handler failures are retried on the ladder and which are dead-lettered at once."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from folio.core.errors import (
    ConflictError,
    DatabaseUnavailableError,
    FolioError,
    NotFoundError,
    RateLimitedError,
    ValidationFailedError,
)
from folio.messaging.errors import (
    BrokerUnavailableError,
    MalformedMessageError,
    PermanentError,
    TransientError,
    failure_kind,
)

pytestmark = pytest.mark.unit


class _Shape(BaseModel):
    n: int


def _validation_error() -> ValidationError:
    try:
        _Shape.model_validate({"n": "many"})
    except ValidationError as exc:
        return exc
    raise AssertionError("the payload validated")


@pytest.mark.parametrize(
    "error",
    [
        TransientError("endpoint timed out"),
        DatabaseUnavailableError("down"),
        BrokerUnavailableError("down"),
        ConflictError("version moved"),
        RateLimitedError("slow down", retry_after_s=1),
        FolioError("internal"),
        ConnectionResetError("reset"),
        KeyError("a bug, fixed by the next deploy"),
    ],
)
def test_errors_that_may_pass_are_transient(error: Exception) -> None:
    """Outages, 408/409/423/429/5xx problems and the unexpected are retried on the ladder."""
    assert failure_kind(error) == "transient"


@pytest.mark.parametrize(
    "error",
    [
        PermanentError("unknown event type"),
        MalformedMessageError("no id"),
        NotFoundError("order gone"),
        ValidationFailedError("bad amount"),
    ],
)
def test_errors_no_retry_can_fix_are_permanent(error: Exception) -> None:
    """PermanentError, a malformed message and other 4xx problems are dead-lettered at once."""
    assert failure_kind(error) == "permanent"


def test_a_payload_that_fails_validation_is_permanent() -> None:
    """A pydantic ValidationError (the payload's shape is wrong) will be wrong next time too."""
    assert failure_kind(_validation_error()) == "permanent"
