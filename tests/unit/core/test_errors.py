"""Domain errors become RFC 9457 problem details with stable, documented codes."""

from __future__ import annotations

import pytest

from folio.core.errors import (
    PROBLEM_BASE,
    PROBLEM_CATALOGUE,
    AccountLockedError,
    AuthenticationRequiredError,
    ConflictError,
    DatabaseUnavailableError,
    FolioError,
    InvalidParam,
    NotFoundError,
    NotImplementedYetError,
    PermissionDeniedError,
    Problem,
    RateLimitedError,
    ServiceUnavailableError,
    TenantRequiredError,
    ValidationFailedError,
)

pytestmark = pytest.mark.unit

# The codes are a public contract (clients switch on them, the docs list them): changing
# this set is a breaking change, so it is spelled out rather than derived.
PUBLIC_CODES = {
    "internal-error": 500,
    "not-found": 404,
    "validation-failed": 422,
    "conflict": 409,
    "invalid-cursor": 400,
    "permission-denied": 403,
    "authentication-required": 401,
    "tenant-required": 400,
    "rate-limited": 429,
    "invalid-credentials": 401,
    "account-locked": 423,
    "quota-exceeded": 403,
    "payload-too-large": 413,
    "service-unavailable": 503,
    "database-unavailable": 503,
    "not-implemented": 501,
}

SIMPLE_ERRORS: list[type[FolioError]] = [
    FolioError,
    NotFoundError,
    ValidationFailedError,
    ConflictError,
    PermissionDeniedError,
    AuthenticationRequiredError,
    TenantRequiredError,
    ServiceUnavailableError,
    DatabaseUnavailableError,
    NotImplementedYetError,
]


def all_subclasses(cls: type[FolioError]) -> set[type[FolioError]]:
    """``cls`` and every class below it."""
    found = {cls}
    for sub in cls.__subclasses__():
        found |= all_subclasses(sub)
    return found


@pytest.mark.parametrize("cls", SIMPLE_ERRORS, ids=lambda c: c.__name__)
def test_error_becomes_problem(cls: type[FolioError]) -> None:
    """Each error maps to a problem with its type URI, status, title, detail and request members."""
    error = cls("shelf 7 is gone", shelf_id=7)

    problem = error.to_problem(instance="/shelves/7", correlation_id="req-9")

    assert problem.type == PROBLEM_BASE + cls.code
    assert problem.code == cls.code
    assert problem.status == PUBLIC_CODES[cls.code]
    assert problem.title == cls.title
    assert problem.detail == "shelf 7 is gone"
    assert problem.instance == "/shelves/7"
    assert problem.correlation_id == "req-9"
    assert problem.model_dump()["shelf_id"] == 7


@pytest.mark.parametrize("cls", SIMPLE_ERRORS, ids=lambda c: c.__name__)
def test_error_without_detail_uses_its_title(cls: type[FolioError]) -> None:
    """With no detail the exception message is the title and the problem omits ``detail``."""
    error = cls()

    assert str(error) == cls.title
    assert error.to_problem().detail is None
    assert error.to_problem().model_dump(exclude_none=True).keys() == {"type", "title", "status", "code"}


def test_rate_limited_carries_retry_after() -> None:
    """RateLimitedError keeps ``retry_after_s`` on the error and as a problem member."""
    error = RateLimitedError("slow down", retry_after_s=17, bucket="search")

    problem = error.to_problem()

    assert error.retry_after_s == 17
    assert problem.status == 429
    assert problem.model_dump()["retry_after_s"] == 17
    assert problem.model_dump()["bucket"] == "search"
    assert problem.detail == "slow down"


def test_rate_limited_requires_retry_after() -> None:
    """A rate-limit error without a retry time cannot be built."""
    with pytest.raises(TypeError):
        RateLimitedError("slow down")  # type: ignore[call-arg]


def test_database_unavailable_is_a_service_unavailable_with_optional_retry_after() -> None:
    """DatabaseUnavailableError is a 503 ServiceUnavailableError; ``retry_after_s`` only when known."""
    refused = DatabaseUnavailableError("circuit open", retry_after_s=12)
    unreachable = DatabaseUnavailableError("no route")

    assert isinstance(refused, ServiceUnavailableError)
    assert refused.retry_after_s == 12
    assert refused.to_problem().model_dump()["retry_after_s"] == 12
    assert unreachable.retry_after_s is None
    assert "retry_after_s" not in unreachable.to_problem().model_dump(exclude_none=True)


def test_validation_problem_lists_invalid_params() -> None:
    """A validation problem may list its invalid inputs, serialised as name/reason pairs."""
    problem = ValidationFailedError(
        "bad input", errors=[InvalidParam(name="body.title", reason="too short")]
    ).to_problem()

    assert problem.errors == [InvalidParam(name="body.title", reason="too short")]
    assert problem.model_dump(mode="json")["errors"] == [{"name": "body.title", "reason": "too short"}]


def test_problem_json_round_trips() -> None:
    """A problem survives JSON serialisation, extra members included."""
    problem = ConflictError("exists", shelf="fiction").to_problem(instance="/x")

    again = Problem.model_validate_json(problem.model_dump_json())

    assert again == problem
    assert again.model_dump()["shelf"] == "fiction"


def test_errors_are_exceptions_of_one_family() -> None:
    """Every domain error is a FolioError, so one handler can catch them all."""
    with pytest.raises(FolioError):
        raise NotFoundError("nope")


def test_catalogue_codes_are_the_public_contract() -> None:
    """The catalogue holds exactly the published codes, each mapped to the class that owns it."""
    assert {code: cls.status for code, cls in PROBLEM_CATALOGUE.items()} == PUBLIC_CODES
    assert all(cls.code == code for code, cls in PROBLEM_CATALOGUE.items())


def test_catalogue_codes_are_unique_across_every_error_class() -> None:
    """No two core error classes share a code (the catalogue would hide one), and all are catalogued."""
    classes = {cls for cls in all_subclasses(FolioError) if cls.__module__ == FolioError.__module__}
    codes = [cls.code for cls in classes]

    assert len(codes) == len(set(codes))
    assert set(PROBLEM_CATALOGUE.values()) == classes


def test_problem_type_uris_are_stable() -> None:
    """Type URIs live under the documented base and end in the code."""
    assert PROBLEM_BASE == "https://folio.dev/problems/"
    for code, cls in PROBLEM_CATALOGUE.items():
        error = cls(retry_after_s=1) if cls in {RateLimitedError, AccountLockedError} else cls()
        assert error.to_problem().type == f"https://folio.dev/problems/{code}"
