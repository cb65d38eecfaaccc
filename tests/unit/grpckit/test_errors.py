"""FolioError across a call: status codes, google.rpc.Status details, and the same error rebuilt."""

from __future__ import annotations

import grpc
import pytest

from folio.core.errors import (
    DatabaseUnavailableError,
    FolioError,
    InvalidParam,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
    ValidationFailedError,
)
from folio.grpckit.errors import DeadlineExceededError, error_from_rpc, status_code_for, status_details
from folio.grpckit.rich_status import ERROR_INFO_TYPE_URL, STATUS_DETAILS_KEY, decode_status, encode_status
from folio.orders.api import IllegalTransitionError, OrderNotFoundError

pytestmark = pytest.mark.unit


def across(error: FolioError) -> FolioError:
    """``error`` as a client rebuilds it from the status the server sends."""
    code = status_code_for(error)
    return error_from_rpc(code, error.detail, ((STATUS_DETAILS_KEY, status_details(error, code)),))


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (NotFoundError("x"), grpc.StatusCode.NOT_FOUND),
        (ValidationFailedError("x"), grpc.StatusCode.INVALID_ARGUMENT),
        (PermissionDeniedError("x"), grpc.StatusCode.PERMISSION_DENIED),
        (IllegalTransitionError("x"), grpc.StatusCode.ABORTED),
        (RateLimitedError("x", retry_after_s=3), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (DatabaseUnavailableError("x"), grpc.StatusCode.UNAVAILABLE),
        (DeadlineExceededError("x"), grpc.StatusCode.DEADLINE_EXCEEDED),
        (FolioError("x"), grpc.StatusCode.INTERNAL),
    ],
)
def test_the_status_code_follows_the_errors_http_status(error: FolioError, code: grpc.StatusCode) -> None:
    """The mapping is generic over FolioError.status (Google's HTTP mapping), not per class."""
    assert status_code_for(error) is code


def test_a_contexts_error_comes_back_as_its_own_class() -> None:
    """OrderNotFoundError crosses as NOT_FOUND and is raised again as OrderNotFoundError, detail kept."""
    rebuilt = across(OrderNotFoundError("no order 42 in this shop"))

    assert type(rebuilt) is OrderNotFoundError
    assert (rebuilt.detail, rebuilt.status, rebuilt.code) == (
        "no order 42 in this shop",
        404,
        "order-not-found",
    )


def test_extra_members_and_headers_survive_the_trip() -> None:
    """A rate limit keeps retry_after_s (and Retry-After); a validation error keeps its invalid params."""
    limited = across(RateLimitedError("slow down", retry_after_s=7))
    invalid = across(
        ValidationFailedError("bad", errors=[InvalidParam(name="order_id", reason="must be a UUID")])
    )
    bare = across(NotFoundError())

    assert isinstance(limited, RateLimitedError)
    assert (limited.retry_after_s, limited.headers["Retry-After"]) == (7, "7")
    assert invalid.to_problem().errors == [InvalidParam(name="order_id", reason="must be a UUID")]
    assert bare.detail is None


def test_an_unknown_code_keeps_its_code_status_and_title() -> None:
    """A code no loaded class declares becomes a made-up subclass carrying the same problem."""
    details = encode_status(
        5, "it went", reason="gone-away", domain="folio.dev", metadata={"status": "410", "title": "Gone away"}
    )

    rebuilt = error_from_rpc(grpc.StatusCode.NOT_FOUND, "it went", ((STATUS_DETAILS_KEY, details),))

    assert (rebuilt.code, rebuilt.status, rebuilt.title, rebuilt.detail) == (
        "gone-away",
        410,
        "Gone away",
        "it went",
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (grpc.StatusCode.UNAVAILABLE, ServiceUnavailableError),
        (grpc.StatusCode.DEADLINE_EXCEEDED, DeadlineExceededError),
        (grpc.StatusCode.PERMISSION_DENIED, PermissionDeniedError),
        (grpc.StatusCode.DATA_LOSS, FolioError),
    ],
)
def test_a_status_without_details_becomes_the_nearest_platform_error(
    code: grpc.StatusCode, expected: type[FolioError]
) -> None:
    """GRPC's own failures (a server down, a deadline) carry no details: they map by code."""
    rebuilt = error_from_rpc(code, "upstream said so", (("other-bin", b"\x00"),))

    assert type(rebuilt) is expected
    assert rebuilt.detail is not None
    assert "upstream said so" in rebuilt.detail


def test_the_status_details_are_a_google_rpc_status_with_error_info() -> None:
    """The trailer decodes as google.rpc.Status (code, message) holding an ErrorInfo of domain folio.dev."""
    code = status_code_for(OrderNotFoundError("missing"))
    raw = status_details(OrderNotFoundError("missing"), code)

    assert ERROR_INFO_TYPE_URL.encode() in raw
    assert decode_status(raw) == (
        5,
        "missing",
        "order-not-found",
        {"status": "404", "title": "Order not found"},
    )
    assert decode_status(encode_status(13, "x", reason="r", domain="d", metadata={}))[2] == "r"
