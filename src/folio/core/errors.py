"""Domain errors and the one error shape Folio answers with: RFC 9457 problem details.

Contexts raise subclasses of ``FolioError``; each carries a stable ``code`` that
becomes the problem's ``type`` (``https://folio.dev/problems/<code>``) and the HTTP
status it maps to. The gateway turns them into ``application/problem+json`` in one
place (``folio.entrypoints.gateway.problems``); no handler builds error bodies itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_BASE = "https://folio.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class InvalidParam(BaseModel):
    """One invalid input, as listed in a validation problem's ``errors``."""

    name: str = Field(description="Dotted location of the input, e.g. `body.title`.")
    reason: str = Field(description="What is wrong with it.")


class Problem(BaseModel):
    """An RFC 9457 problem details body."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="URI naming the kind of problem; stable, documented.")
    title: str = Field(description="Short human summary of the kind of problem.")
    status: int = Field(description="HTTP status code.")
    detail: str | None = Field(default=None, description="What went wrong this time.")
    instance: str | None = Field(default=None, description="The request path it happened on.")
    code: str = Field(description="The problem code (last segment of `type`).")
    correlation_id: str | None = Field(default=None, description="Quote it when reporting the problem.")
    errors: list[InvalidParam] | None = Field(
        default=None, description="Invalid inputs, for validation problems."
    )


class FolioError(Exception):
    """Base of every error a context raises on purpose.

    Subclasses set ``code``, ``title`` and ``status``; instances add a ``detail``
    and optional extra members for the problem body.
    """

    code: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"
    status: ClassVar[int] = 500

    def __init__(
        self, detail: str | None = None, *, headers: Mapping[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extra = extra
        self.headers: dict[str, str] = dict(headers or {})
        """HTTP headers the response carries (``Retry-After``, ``WWW-Authenticate``, ...)."""

    def to_problem(self, *, instance: str | None = None, correlation_id: str | None = None) -> Problem:
        """The problem body for this error."""
        return Problem(
            type=PROBLEM_BASE + self.code,
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            code=self.code,
            correlation_id=correlation_id,
            **self.extra,
        )


class NotFoundError(FolioError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    code = "not-found"
    title = "Not found"
    status = 404


class ValidationFailedError(FolioError):
    """The input broke a rule the schema could not express."""

    code = "validation-failed"
    title = "Invalid input"
    status = 422


class InvalidCursorError(FolioError):
    """A pagination ``cursor`` was not one the API issued, was edited, or belongs to another listing.

    400, not 422: the client did not get a field wrong; it sent back something it should
    only ever copy from a previous page's ``next_cursor``.
    """

    code = "invalid-cursor"
    title = "Invalid cursor"
    status = 400


class ConflictError(FolioError):
    """The request conflicts with the current state (duplicate, stale version)."""

    code = "conflict"
    title = "Conflict"
    status = 409


class PermissionDeniedError(FolioError):
    """The caller is known but may not do this."""

    code = "permission-denied"
    title = "Permission denied"
    status = 403


class AuthenticationRequiredError(FolioError):
    """The caller must authenticate first."""

    code = "authentication-required"
    title = "Authentication required"
    status = 401


class TenantRequiredError(FolioError):
    """The operation is for one shop (tenant) and the request did not say which.

    400, not 403: nothing is being refused to a known caller; the request lacks the
    shop it is about (no tenant host, header or token claim), and the client fixes it
    by sending one. A caller naming a shop it may not use gets ``PermissionDeniedError``.
    """

    code = "tenant-required"
    title = "Tenant required"
    status = 400


class RateLimitedError(FolioError):
    """Too many requests; ``retry_after_s`` says when to come back."""

    code = "rate-limited"
    title = "Too many requests"
    status = 429

    def __init__(
        self,
        detail: str | None = None,
        *,
        retry_after_s: int,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(
            detail,
            retry_after_s=retry_after_s,
            headers={**(headers or {}), "Retry-After": str(retry_after_s)},
            **extra,
        )
        self.retry_after_s = retry_after_s


class PayloadTooLargeError(FolioError):
    """The request body is larger than the route accepts (member ``limit_bytes``); it was not read."""

    code = "payload-too-large"
    title = "Payload too large"
    status = 413


class ServiceUnavailableError(FolioError):
    """A dependency (database, broker, ...) is down or switched off."""

    code = "service-unavailable"
    title = "Service unavailable"
    status = 503


class DatabaseUnavailableError(ServiceUnavailableError):
    """The database cannot be reached, or its circuit breaker is open and failing fast.

    ``retry_after_s`` is set when the breaker knows when it will let a trial call
    through; it becomes a problem member (and the gateway's ``Retry-After``).
    """

    code = "database-unavailable"
    title = "Database unavailable"
    status = 503

    def __init__(self, detail: str | None = None, *, retry_after_s: int | None = None, **extra: Any) -> None:
        headers = None
        if retry_after_s is not None:
            extra["retry_after_s"] = retry_after_s
            headers = {"Retry-After": str(retry_after_s)}
        super().__init__(detail, headers=headers, **extra)
        self.retry_after_s = retry_after_s


class InvalidCredentialsError(AuthenticationRequiredError):
    """The credentials given (password, token, API key) are wrong, expired or revoked.

    One code for every cause, so a caller cannot tell an unknown account from a wrong
    password; the log and the audit trail record the real reason.
    """

    code = "invalid-credentials"
    title = "Invalid credentials"
    status = 401


class AccountLockedError(FolioError):
    """Too many failed logins locked the account for a while (``retry_after_s``)."""

    code = "account-locked"
    title = "Account locked"
    status = 423

    def __init__(self, detail: str | None = None, *, retry_after_s: int, **extra: Any) -> None:
        super().__init__(
            detail, retry_after_s=retry_after_s, headers={"Retry-After": str(retry_after_s)}, **extra
        )
        self.retry_after_s = retry_after_s


class QuotaExceededError(FolioError):
    """The shop has used all of a quota (tasks, seats, storage, API calls per day).

    Members ``meter``, ``limit`` and ``in_use`` say which quota and how much of it.
    """

    code = "quota-exceeded"
    title = "Quota exceeded"
    status = 403


class NotImplementedYetError(FolioError):
    """A capability that is declared but not built yet: an honest 501."""

    code = "not-implemented"
    title = "Not implemented yet"
    status = 501


PROBLEM_CATALOGUE: dict[str, type[FolioError]] = {
    cls.code: cls
    for cls in (
        FolioError,
        NotFoundError,
        ValidationFailedError,
        ConflictError,
        InvalidCursorError,
        PermissionDeniedError,
        AuthenticationRequiredError,
        TenantRequiredError,
        RateLimitedError,
        InvalidCredentialsError,
        AccountLockedError,
        QuotaExceededError,
        PayloadTooLargeError,
        ServiceUnavailableError,
        DatabaseUnavailableError,
        NotImplementedYetError,
    )
}
"""Every problem code the platform can answer with, for the docs and the tests."""
