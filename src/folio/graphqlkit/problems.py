"""GraphQL errors in Folio's problem shape: each error's ``extensions`` is the problem body.

A resolver raises the same ``FolioError`` its service raises for REST, and the error
entry carries what the REST API would have answered (``type``, ``code``, ``title``,
``status``, ``detail`` and the error's extra members), so a client branches on
``extensions.code`` exactly as on a REST problem's ``code``. Errors the query limits
raise before execution are turned into their own codes here; anything unexpected is
``internal-error``, its message withheld (the log has it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from graphql import GraphQLError

from folio.core.errors import FolioError, ValidationFailedError

__all__ = [
    "PersistedQueryNotFoundError",
    "PersistedQueryRequiredError",
    "QueryTooComplexError",
    "QueryTooDeepError",
    "QueryTooLargeError",
    "problem_of",
    "refusal_status",
    "shape_error",
]

log = structlog.get_logger(__name__)


class QueryTooDeepError(FolioError, code="query-too-deep", title="Query too deep", status=400):
    """The query nests selections deeper than ``graphql.max_depth``."""


class QueryTooLargeError(FolioError, code="query-too-large", title="Query too large", status=400):
    """The query document holds more tokens than ``graphql.max_tokens``."""


class QueryTooComplexError(FolioError, code="query-too-complex", title="Query too complex", status=400):
    """The query's cost (fields times list sizes) is over ``graphql.max_cost``."""


class PersistedQueryNotFoundError(
    FolioError, code="persisted-query-not-found", title="PersistedQueryNotFound", status=400
):
    """No query is stored under the hash sent: send it again with its text (the APQ protocol).

    Its message is its title, ``PersistedQueryNotFound``: what Apollo's clients look for.
    """


class PersistedQueryRequiredError(
    FolioError, code="persisted-query-required", title="Persisted query required", status=400
):
    """Allow-list mode: only queries registered by the operator run."""


# The messages graphql-core and strawberry's limiters write: the one place Folio reads
# them (tests/unit/graphqlkit pins each, so an upgrade that rewords one fails there).
_LIMIT_MESSAGES: tuple[tuple[str, type[FolioError]], ...] = (
    ("exceeds maximum operation depth", QueryTooDeepError),
    ("Document contains more than", QueryTooLargeError),
)


def _folio_error(error: GraphQLError) -> FolioError | None:
    original = error.original_error
    if isinstance(original, FolioError):
        return original
    if original is None:
        for fragment, kind in _LIMIT_MESSAGES:
            if fragment in error.message:
                return kind(error.message)
        if error.extensions and "code" in error.extensions:
            return None
        # Syntax and validation errors of the document itself.
        return ValidationFailedError(error.message)
    return None


def problem_of(error: FolioError) -> dict[str, Any]:
    """The problem body of ``error`` as a GraphQL error's ``extensions``."""
    problem: dict[str, Any] = error.to_problem().model_dump(mode="json", exclude_none=True)
    return problem


def shape_error(error: GraphQLError) -> None:
    """Give ``error`` its problem as ``extensions`` (in place); an unexpected one is logged and masked."""
    if error.extensions and "code" in error.extensions:
        return  # already a problem (the cost rule builds its own)
    folio = _folio_error(error)
    if folio is None:
        log.error("graphql.resolver_failed", path=error.path, exc_info=error.original_error)
        folio = FolioError("an unexpected error; the log has it")
        error.message = folio.title
    error.extensions = problem_of(folio)


def refusal_status(errors: Sequence[GraphQLError]) -> int:
    """The HTTP status of a response with no data: the first error's problem status."""
    for error in errors:
        status = (error.extensions or {}).get("status")
        if isinstance(status, int):
            return status
    return ValidationFailedError.status
