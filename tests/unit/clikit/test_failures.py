"""``folio.clikit.failures``: the root group turns expected failures into one line; the rest stay bugs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from folio.clikit import CliContext
from folio.clikit.failures import Failure, FailureRule, FolioGroup, describe_database, explain
from folio.core.errors import NotFoundError
from folio.core.settings import Settings
from folio.core.settings.services import MissingPasswordError

pytestmark = pytest.mark.unit


class GeneratedServerError(RuntimeError):
    """A condition of a tier above clikit, which only a rule handed to the group knows."""


def _server_failure(exc: BaseException, _settings: Settings | None) -> Failure | None:
    return Failure((f"server: {exc}",)) if isinstance(exc, GeneratedServerError) else None


def _root(*, failures: Sequence[FailureRule] = ()) -> click.Group:
    """A root group like `folio`'s with commands that fail in each way."""

    @click.group(cls=FolioGroup, failures=failures)
    @click.pass_context
    def root(ctx: click.Context) -> None:
        ctx.obj = CliContext()

    @root.command("missing")
    def missing() -> None:
        raise NotFoundError("no shelf called generated-test-shelf")

    @root.command("server")
    def server() -> None:
        raise GeneratedServerError("generated test server did not start")

    return root


def test_a_folio_error_is_one_error_line_and_exit_1() -> None:
    """A ``FolioError`` from any command ends with its detail as one ``error:`` line."""
    result = CliRunner().invoke(_root(), ["missing"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["error: no shelf called generated-test-shelf"]


def test_a_rule_handed_to_the_group_explains_its_own_condition() -> None:
    """``failures=`` extends what is expected; without the rule the same exception is a bug."""
    explained = CliRunner().invoke(_root(failures=(_server_failure,)), ["server"])
    assert explained.exit_code == 1
    assert explained.output.strip().splitlines() == ["error: server: generated test server did not start"]
    bug = CliRunner().invoke(_root(), ["server"])
    assert isinstance(bug.exception, GeneratedServerError)


def test_explain_unwraps_a_group_of_one_and_leaves_bugs_alone() -> None:
    """A task group's single error is explained as itself; an unknown exception has no ``Failure``."""
    group = BaseExceptionGroup("one", [NotFoundError("no shop called 'nope'")])
    assert explain(group, None) == Failure(("no shop called 'nope'",))
    assert explain(RuntimeError("bug"), None) is None


def test_an_unknown_database_is_named_plainly() -> None:
    """Before the settings load, the message names "the database"."""
    assert describe_database(None) == "the database"


def test_postgres_chosen_before_its_passwords_exist_is_one_line(tmp_path: Path) -> None:
    """PostgreSQL chosen in a folder whose servers never started: what to run, not a traceback."""
    missing = MissingPasswordError(
        f"services.postgres.app_password is not set and {tmp_path / 'roles.toml'} holds no generated one "
        "yet: run `folio services up`"
    )
    failure = explain(missing, None)
    assert failure is not None
    assert failure.exit_code == 1
    assert failure.lines == (str(missing),)
