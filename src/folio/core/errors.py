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

    A subclass names its problem in its class statement, ``class GoneError(FolioError,
    code="gone", title="Gone", status=410)``, and inherits what it leaves out; instances
    add a ``detail`` and optional extra members for the problem body.
    """

    code: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"
    status: ClassVar[int] = 500

    def __init_subclass__(
        cls, *, code: str | None = None, title: str | None = None, status: int | None = None, **kwargs: Any
    ) -> None:
        """Set the subclass's problem ``code``, ``title`` and ``status`` from its class statement."""
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
        if title is not None:
            cls.title = title
        if status is not None:
            cls.status = status

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


class NotFoundError(FolioError, code="not-found", title="Not found", status=404):
    """The thing asked for does not exist (or is not visible to the caller)."""


class ValidationFailedError(FolioError, code="validation-failed", title="Invalid input", status=422):
    """The input broke a rule the schema could not express."""


class InvalidCursorError(FolioError, code="invalid-cursor", title="Invalid cursor", status=400):
    """A pagination ``cursor`` was not one the API issued, was edited, or belongs to another listing.

    400, not 422: the client did not get a field wrong; it sent back something it should
    only ever copy from a previous page's ``next_cursor``.
    """


class ConflictError(FolioError, code="conflict", title="Conflict", status=409):
    """The request conflicts with the current state (duplicate, stale version)."""


class PermissionDeniedError(FolioError, code="permission-denied", title="Permission denied", status=403):
    """The caller is known but may not do this."""


class AuthenticationRequiredError(
    FolioError, code="authentication-required", title="Authentication required", status=401
):
    """The caller must authenticate first."""


class TenantRequiredError(FolioError, code="tenant-required", title="Tenant required", status=400):
    """The operation is for one shop (tenant) and the request did not say which.

    400, not 403: nothing is being refused to a known caller; the request lacks the
    shop it is about (no tenant host, header or token claim), and the client fixes it
    by sending one. A caller naming a shop it may not use gets ``PermissionDeniedError``.
    """


class RateLimitedError(FolioError, code="rate-limited", title="Too many requests", status=429):
    """Too many requests; ``retry_after_s`` says when to come back."""

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


class PayloadTooLargeError(FolioError, code="payload-too-large", title="Payload too large", status=413):
    """The request body is larger than the route accepts (member ``limit_bytes``); it was not read."""


class ServiceUnavailableError(
    FolioError, code="service-unavailable", title="Service unavailable", status=503
):
    """A dependency (database, broker, ...) is down or switched off."""


class DatabaseUnavailableError(
    ServiceUnavailableError, code="database-unavailable", title="Database unavailable", status=503
):
    """The database cannot be reached, or its circuit breaker is open and failing fast.

    ``retry_after_s`` is set when the breaker knows when it will let a trial call
    through; it becomes a problem member (and the gateway's ``Retry-After``).
    """

    def __init__(self, detail: str | None = None, *, retry_after_s: int | None = None, **extra: Any) -> None:
        headers = None
        if retry_after_s is not None:
            extra["retry_after_s"] = retry_after_s
            headers = {"Retry-After": str(retry_after_s)}
        super().__init__(detail, headers=headers, **extra)
        self.retry_after_s = retry_after_s


class InvalidCredentialsError(
    AuthenticationRequiredError, code="invalid-credentials", title="Invalid credentials", status=401
):
    """The credentials given (password, token, API key) are wrong, expired or revoked.

    One code for every cause, so a caller cannot tell an unknown account from a wrong
    password; the log and the audit trail record the real reason.
    """


class AccountLockedError(FolioError, code="account-locked", title="Account locked", status=423):
    """Too many failed logins locked the account for a while (``retry_after_s``)."""

    def __init__(self, detail: str | None = None, *, retry_after_s: int, **extra: Any) -> None:
        super().__init__(
            detail, retry_after_s=retry_after_s, headers={"Retry-After": str(retry_after_s)}, **extra
        )
        self.retry_after_s = retry_after_s


class QuotaExceededError(FolioError, code="quota-exceeded", title="Quota exceeded", status=403):
    """The shop has used all of a quota (tasks, seats, storage, API calls per day).

    Members ``meter``, ``limit`` and ``in_use`` say which quota and how much of it.
    """


class NotImplementedYetError(FolioError, code="not-implemented", title="Not implemented yet", status=501):
    """A capability that is declared but not built yet: an honest 501."""


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
