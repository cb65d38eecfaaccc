"""Folio's errors across a gRPC call: ``FolioError`` -> status code and rich details -> ``FolioError``.

Server side, a ``FolioError`` becomes the status code its HTTP ``status`` maps to
(Google's canonical mapping, generic over the status: no table per error class) and a
``google.rpc.Status`` trailer whose ``ErrorInfo`` carries the problem: ``reason`` is
the error's ``code``, the metadata its ``status``, ``title`` and extra members (JSON).
Client side, ``error_from_rpc`` raises the same ``FolioError`` subclass again, found by
its code among the classes the process has loaded, so the gateway renders the very
problem the service raised. An error without Folio's details (a server down, a
deadline) becomes the nearest platform error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from pydantic_core import to_jsonable_python

from folio.core.errors import (
    AuthenticationRequiredError,
    ConflictError,
    FolioError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
    ValidationFailedError,
)
from folio.grpckit.rich_status import STATUS_DETAILS_KEY, decode_status, encode_status

__all__ = [
    "ERROR_DOMAIN",
    "DeadlineExceededError",
    "error_from_rpc",
    "folio_error_class",
    "status_code_for",
    "status_details",
]

ERROR_DOMAIN = "folio.dev"
"""``ErrorInfo.domain`` of every error Folio's services raise."""


class DeadlineExceededError(FolioError, code="deadline-exceeded", title="Deadline exceeded", status=504):
    """The request's time budget ran out before a service answered; the service stopped its work."""


_STATUS_CODES: dict[int, grpc.StatusCode] = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.ABORTED,
    412: grpc.StatusCode.FAILED_PRECONDITION,
    413: grpc.StatusCode.OUT_OF_RANGE,
    422: grpc.StatusCode.INVALID_ARGUMENT,
    423: grpc.StatusCode.FAILED_PRECONDITION,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    499: grpc.StatusCode.CANCELLED,
    501: grpc.StatusCode.UNIMPLEMENTED,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}
"""HTTP status -> gRPC code, as google.rpc.Code documents each code's HTTP mapping."""

_WITHOUT_DETAILS: dict[grpc.StatusCode, type[FolioError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: ValidationFailedError,
    grpc.StatusCode.UNAUTHENTICATED: AuthenticationRequiredError,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDeniedError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.ABORTED: ConflictError,
    grpc.StatusCode.ALREADY_EXISTS: ConflictError,
    grpc.StatusCode.UNAVAILABLE: ServiceUnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
    grpc.StatusCode.CANCELLED: DeadlineExceededError,
}
"""What a status without Folio's details (raised by gRPC itself, or a foreign server) becomes."""


def status_code_for(error: FolioError) -> grpc.StatusCode:
    """The gRPC status code of ``error``: its HTTP status mapped; INTERNAL for anything unmapped (5xx)."""
    if error.status == RateLimitedError.status:
        return grpc.StatusCode.RESOURCE_EXHAUSTED
    return _STATUS_CODES.get(error.status, grpc.StatusCode.INTERNAL)


def status_details(error: FolioError, code: grpc.StatusCode) -> bytes:
    """The serialized ``google.rpc.Status`` for ``error`` (the ``grpc-status-details-bin`` trailer)."""
    metadata = {"status": str(error.status), "title": error.title}
    if error.extra:
        metadata["extra"] = json.dumps(to_jsonable_python(error.extra), separators=(",", ":"))
    return encode_status(
        code.value[0], error.detail or error.title, reason=error.code, domain=ERROR_DOMAIN, metadata=metadata
    )


def _declared_classes(root: type[FolioError]) -> dict[str, type[FolioError]]:
    """Every loaded subclass of ``root`` that declares its own code, by code (the first one loaded wins)."""
    found: dict[str, type[FolioError]] = {}
    pending: list[type[FolioError]] = [root]
    while pending:
        cls = pending.pop(0)
        if "code" in vars(cls):
            found.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return found


_classes: dict[str, type[FolioError]] = {}
_remote: dict[tuple[str, int, str], type[FolioError]] = {}


def folio_error_class(code: str, *, status: int, title: str) -> type[FolioError]:
    """The ``FolioError`` subclass with ``code``; one made up (same code, status, title) when none is loaded.

    The classes are looked up again when a code is missing, so a context imported
    after the first error is still found.
    """
    if code not in _classes:
        _classes.update(_declared_classes(FolioError))
    known = _classes.get(code)
    if known is not None:
        return known
    key = (code, status, title)
    if key not in _remote:
        _remote[key] = type(
            f"RemoteError[{code}]", (FolioError,), {"__doc__": "An error a remote service raised."},
            code=code, title=title, status=status,
        )  # fmt: skip
    return _remote[key]


def _trailer(metadata: Any, key: str) -> bytes | None:
    for item in metadata or ():
        if item[0] == key and isinstance(item[1], bytes):
            return item[1]
    return None


def error_from_rpc(code: grpc.StatusCode, details: str | None, trailing_metadata: Any) -> FolioError:
    """The ``FolioError`` a failed call's status stands for (its ``google.rpc.Status`` details first)."""
    raw = _trailer(trailing_metadata, STATUS_DETAILS_KEY)
    if raw is not None:
        try:
            _, message, reason, info = decode_status(raw)
        except DecodeError:
            reason = None
        if reason is not None:
            return _rebuilt(reason, message, info)
    fallback = _WITHOUT_DETAILS.get(code, FolioError)
    return fallback(f"{code.name.lower()}: {details}" if details else code.name.lower())


def _rebuilt(reason: str, message: str, info: Mapping[str, str]) -> FolioError:
    status = int(info.get("status", "500"))
    cls = folio_error_class(reason, status=status, title=info.get("title", reason))
    extra: dict[str, Any] = json.loads(info["extra"]) if "extra" in info else {}
    # A message equal to the title stands for "no detail" (status_details sends the title then).
    detail = None if message == cls.title else message
    try:
        return cls(detail, **extra)
    except TypeError:  # a subclass whose constructor wants other arguments: keep the problem's members
        error = FolioError.__new__(cls)
        FolioError.__init__(error, detail, **extra)
        return error
