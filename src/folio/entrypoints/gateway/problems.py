"""The one place exceptions become RFC 9457 ``application/problem+json`` responses."""

from __future__ import annotations

from http import HTTPStatus
from typing import cast

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from folio.core.errors import (
    PROBLEM_BASE,
    PROBLEM_MEDIA_TYPE,
    FolioError,
    InvalidParam,
    Problem,
    ServiceUnavailableError,
)
from folio.core.logging import correlation_id

log = structlog.get_logger(__name__)

SERVER_ERROR = 500
STATUS_CODES = {
    400: "bad-request",
    401: "authentication-required",
    403: "permission-denied",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    423: "account-locked",
    429: "rate-limited",
}


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    """Serialise ``problem`` with the problem+json media type."""
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


async def _folio_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast("FolioError", exc)  # registered for FolioError only
    if isinstance(exc, ServiceUnavailableError):
        # An outage answers every request with it: the dependency's own state changes
        # (the breaker's warnings) are the news, not each refused request.
        log.info("http.dependency_unavailable", code=exc.code, detail=exc.detail)
    elif exc.status >= SERVER_ERROR:
        log.error("http.domain_error", code=exc.code, detail=exc.detail)
    return problem_response(
        exc.to_problem(instance=request.url.path, correlation_id=correlation_id()), exc.headers or None
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast("RequestValidationError", exc)  # registered for RequestValidationError only
    errors = [
        InvalidParam(name=".".join(str(part) for part in error["loc"]), reason=error["msg"])
        for error in exc.errors()
    ]
    problem = Problem(
        type=PROBLEM_BASE + "validation-failed",
        title="Invalid input",
        status=422,
        detail=f"{len(errors)} invalid input(s)",
        instance=request.url.path,
        code="validation-failed",
        correlation_id=correlation_id(),
        errors=errors,
    )
    return problem_response(problem)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast("StarletteHTTPException", exc)  # registered for HTTPException only
    fallback = "internal-error" if exc.status_code >= SERVER_ERROR else "bad-request"
    code = STATUS_CODES.get(exc.status_code, fallback)
    phrase = HTTPStatus(exc.status_code).phrase
    problem = Problem(
        type=PROBLEM_BASE + code,
        title=phrase,
        status=exc.status_code,
        detail=exc.detail if exc.detail != phrase else None,
        instance=request.url.path,
        code=code,
        correlation_id=correlation_id(),
    )
    return problem_response(problem, dict(exc.headers) if exc.headers else None)


def unhandled_problem(path: str) -> Problem:
    """The 500 problem for an unexpected exception (its details stay in the log)."""
    return FolioError("An unexpected error occurred; quote the correlation id when reporting it.").to_problem(
        instance=path, correlation_id=correlation_id()
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Map every error the app can raise onto the one problem shape.

    Unexpected exceptions are turned into problems by ``RequestContextMiddleware``.
    """
    app.add_exception_handler(FolioError, _folio_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
