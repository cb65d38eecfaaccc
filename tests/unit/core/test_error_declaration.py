"""A ``FolioError`` subclass names its problem in its class statement and inherits what it leaves out."""

from __future__ import annotations

import pytest

from folio.core.errors import FolioError, NotFoundError

pytestmark = pytest.mark.unit


def test_a_subclass_declares_its_problem_in_the_class_statement() -> None:
    """code, title and status given as class keywords become the problem's members."""

    class GoneError(FolioError, code="gone", title="Gone", status=410):
        """The thing was here and is not any more."""

    problem = GoneError("deleted yesterday").to_problem()
    assert (problem.code, problem.title, problem.status, problem.detail) == (
        "gone",
        "Gone",
        410,
        "deleted yesterday",
    )


def test_a_subclass_inherits_what_it_leaves_out() -> None:
    """A subclass naming only its code keeps its parent's title and status; the parent is unchanged."""

    class WorkNotFoundError(NotFoundError, code="work-not-found"):
        """No such work."""

    assert (WorkNotFoundError.code, WorkNotFoundError.title, WorkNotFoundError.status) == (
        "work-not-found",
        NotFoundError.title,
        404,
    )
    assert NotFoundError.code == "not-found"
