"""How every ``folio`` command ends on an expected failure: one line on stderr, a non-zero exit.

``FolioGroup`` (the root group) catches what a command raises and asks ``explain``
whether it is an expected condition: the database unreachable or never migrated,
a missing or unreadable file, a server down, invalid settings or input, any
``FolioError``. Those become one ``error:`` line that says what to do, with the
traceback only at ``-vv``. Anything else is a bug and keeps its traceback.

Conditions of tiers above this package (the harness's ``ProcessError``) are explained
by rules the entry point hands the group (``FolioGroup(failures=...)``): this package
imports nothing above the kernel.

Heavy modules (SQLAlchemy, httpx, pydantic) are imported only once a command has
failed, so ``folio --help`` stays fast.
"""

from __future__ import annotations

import errno
import importlib
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from folio.clikit.context import EXIT_CONFIG_ERROR, EXIT_FAILURE, CliContext

if TYPE_CHECKING:
    from folio.core.settings import Settings

__all__ = [
    "MIGRATE_HINT",
    "START_HINT",
    "Failure",
    "FailureRule",
    "FolioGroup",
    "describe_database",
    "explain",
]

START_HINT = "start it with `folio services up` or `make run`"
MIGRATE_HINT = "run `folio db upgrade`"
_DATABASE_MODULES = ("sqlalchemy", "asyncpg", "aiosqlite", "alembic")
_MISSING_TABLE_SQLSTATE = "42P01"
_PERMISSION_SQLSTATE = "42501"


@dataclass(frozen=True)
class Failure:
    """What to print for an expected failure (one line per entry) and the exit code."""

    lines: tuple[str, ...]
    exit_code: int = EXIT_FAILURE


FailureRule = Callable[[BaseException, "Settings | None"], Failure | None]
"""The ``Failure`` for an exception the rule knows, else None; ``settings`` as ``explain`` gets them."""


class FolioGroup(click.Group):
    """The root ``folio`` group: turns expected failures of any subcommand into ``Failure`` lines.

    ``failures`` are rules tried after the built-in ones, for conditions of the tiers
    above this package (``click.group(cls=FolioGroup, failures=[...])``).

    ``lazy`` names subcommands by where they live (``"folio.mail.cli:mail_group"``; the
    attribute may also be a function that returns the command): a module is imported only
    when its command runs, so ``folio up`` does not load every context's command line.
    ``--help`` imports them all, to print each one's summary.
    """

    def __init__(
        self,
        *args: Any,
        failures: Sequence[FailureRule] = (),
        lazy: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.failures = tuple(failures)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The loaded and the lazy subcommands' names, sorted."""
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The subcommand ``cmd_name``, imported on first use when it is a lazy one."""
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.add_command(_load_command(self.lazy[cmd_name]), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; an expected failure prints its lines and exits non-zero."""
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own: usage errors, --help, exits; click reports them (and fast)
        except Exception as exc:
            # The group's own callback made the CliContext before any subcommand could fail.
            cli = ctx.obj if isinstance(ctx.obj, CliContext) else CliContext()
            failure = explain(exc, cli.loaded_settings, extra=self.failures)
            if failure is None:
                raise
            for line in failure.lines:
                cli.print_error(line)
            if cli.verbosity >= 2:  # noqa: PLR2004 - -vv is debug
                click.echo("".join(traceback.format_exception(exc)), err=True)
            ctx.exit(failure.exit_code)


def _load_command(location: str) -> click.Command:
    """The command at ``"module:attribute"``: the attribute itself, or what calling it returns."""
    module_name, _, attribute = location.partition(":")
    found = getattr(importlib.import_module(module_name), attribute)
    command = found if isinstance(found, click.Command) else found()
    if not isinstance(command, click.Command):
        raise TypeError(f"{location} is not a click command")
    return command


def explain(
    exc: BaseException, settings: Settings | None, *, extra: Sequence[FailureRule] = ()
) -> Failure | None:
    """The ``Failure`` for an expected exception, or None for a bug (which keeps its traceback).

    ``settings`` are those the command loaded, if it got that far; they name the
    database or server in the message. ``extra`` rules are tried after the built-in ones.
    """
    if isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        return explain(exc.exceptions[0], settings, extra=extra)
    for rule in (_settings_failure, _database_failure, _folio_failure, _input_failure, _os_failure, *extra):
        failure = rule(exc, settings)
        if failure is not None:
            return failure
    return None


def _settings_failure(exc: BaseException, _settings: Settings | None) -> Failure | None:
    from folio.core.migrations import MigrationRoleError
    from folio.core.settings import SettingsError
    from folio.core.settings.services import MissingPasswordError

    if isinstance(exc, SettingsError):
        return Failure(tuple(str(problem) for problem in exc.problems), EXIT_CONFIG_ERROR)
    if isinstance(exc, MigrationRoleError | MissingPasswordError):  # both say what to run
        return Failure((str(exc),))
    return None


def _database_failure(exc: BaseException, settings: Settings | None) -> Failure | None:
    """The database could not be reached, is not migrated, or refused a statement."""
    from sqlalchemy.exc import DBAPIError

    from folio.core.db import StatementTimeoutError, is_connection_error
    from folio.core.errors import DatabaseUnavailableError

    if isinstance(exc, StatementTimeoutError):
        return Failure((str(exc),))
    from_database = isinstance(exc, DBAPIError | DatabaseUnavailableError) or _raised_by_database(exc)
    if not from_database:
        return None
    where = describe_database(settings)
    reason = _driver_message(exc)
    if isinstance(exc, DatabaseUnavailableError) or is_connection_error(exc):
        on_postgres = settings is not None and settings.database_url.startswith("postgresql")
        line = (
            f"{where} is not answering; {START_HINT}"
            if on_postgres
            else f"{where} cannot be reached: {reason}"
        )
    elif _is_missing_table(exc, reason):
        line = f"{where} is not migrated ({reason}); {MIGRATE_HINT}"
    elif _PERMISSION_SQLSTATE in _sqlstates(exc):
        line = f"{where} refused: {reason} (is the role right? see `folio config show`)"
    else:
        line = f"{where} refused: {reason}"
    return Failure((line,))


def _folio_failure(exc: BaseException, _settings: Settings | None) -> Failure | None:
    from folio.core.errors import FolioError

    if isinstance(exc, FolioError):
        return Failure((exc.detail or exc.title,))
    return None


def _input_failure(exc: BaseException, _settings: Settings | None) -> Failure | None:
    """Invalid input (a pydantic model refused it) or a server over HTTP that did not answer."""
    import httpx
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'input'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
        return Failure((f"invalid input: {problems}",))
    if isinstance(exc, httpx.TransportError):
        try:
            target = str(exc.request.url)
        except RuntimeError:  # an error raised before a request existed carries none
            target = "the server"
        return Failure((f"could not reach {target}: {_first_line(exc)}; {START_HINT}",))
    return None


def _os_failure(exc: BaseException, _settings: Settings | None) -> Failure | None:
    """A missing or unreadable file, a full disk, a refused connection: the OS said no."""
    if not isinstance(exc, OSError):
        return None
    if exc.filename is None:
        return Failure((_first_line(exc),))
    reason = (exc.strerror or errno.errorcode.get(exc.errno or 0, "failed")).lower()
    target = exc.filename if exc.filename2 is None else f"{exc.filename} -> {exc.filename2}"
    return Failure((f"{target}: {reason}",))


def describe_database(settings: Settings | None) -> str:
    """The database the settings point at, for a person: engine, place, never a password."""
    if settings is None:
        return "the database"
    if settings.database.url is None and settings.database.backend == "postgres":
        pg = settings.services.postgres
        replica = f" (replica at port {pg.replica_port})" if pg.replica_enabled else ""
        return f"PostgreSQL at {pg.host}:{pg.port}{replica}"
    if settings.database.url is None:
        return f"the SQLite file {settings.database.sqlite_path}"
    from sqlalchemy.engine import make_url

    return f"the database {make_url(settings.database_url).render_as_string(hide_password=True)}"


def _raised_by_database(exc: BaseException) -> bool:
    """Whether ``exc`` was raised inside the database stack (a driver's refused socket, say).

    A refused connection from asyncpg arrives as a plain ``ConnectionRefusedError``;
    only where it was raised tells it apart from one of another server.
    """
    if not (isinstance(exc, OSError) or type(exc).__module__.startswith("asyncpg")):
        return False
    return any(
        str(frame.f_globals.get("__name__", "")).startswith(_DATABASE_MODULES)
        for frame, _line in traceback.walk_tb(exc.__traceback__)
    )


def _sqlstates(exc: BaseException) -> set[str]:
    """SQLSTATE codes on ``exc`` or the driver error it wraps."""
    found = set()
    for error in (exc, getattr(exc, "orig", None), exc.__cause__):
        state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(state, str):
            found.add(state)
    return found


def _is_missing_table(exc: BaseException, reason: str) -> bool:
    # SQLite has no SQLSTATE: its message is the only sign.
    return _MISSING_TABLE_SQLSTATE in _sqlstates(exc) or reason.startswith("no such table")


def _driver_message(exc: BaseException) -> str:
    """The database's own words, without SQLAlchemy's statement dump and background link."""
    orig = getattr(exc, "orig", None)
    return _first_line(orig if isinstance(orig, BaseException) else exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
