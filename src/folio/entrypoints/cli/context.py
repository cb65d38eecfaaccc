"""What every ``folio`` command shares: lazily loaded settings and the console."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console
from rich.markup import escape

from folio.core.logging import configure_logging
from folio.core.settings import Settings, load_settings

EXIT_CONFIG_ERROR = 2
EXIT_FAILURE = 1


@dataclass
class CliContext:
    """State of one ``folio`` invocation, on ``click.Context.obj``."""

    config_file: Path | None = None
    verbosity: int = 0
    log_format: str | None = None
    console: Console = field(default_factory=lambda: Console(stderr=False, highlight=False))
    errors: Console = field(default_factory=lambda: Console(stderr=True, highlight=False))
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        """The settings, loaded on first use.

        Raises ``SettingsError`` when they are invalid; the root group prints one line
        per problem and exits with ``EXIT_CONFIG_ERROR``.
        """
        if self._settings is None:
            self._settings = load_settings(config_file=self.config_file)
            # The CLI talks to a person: quiet unless asked (-v, -vv), whatever logging.level says;
            # and its lines are for that person, not shipped to the search server like the
            # platform's (which the `folio up` record may have switched on).
            level = {0: "WARNING", 1: "INFO"}.get(self.verbosity, "DEBUG")
            cli_logging = self._settings.logging.model_copy(update={"level": level, "ship_to_search": False})
            configure_logging(
                cli_logging,
                service="cli",
                log_format=self.log_format or "console",
                search=self._settings.services.search,
                stream=sys.stderr,
            )
        return self._settings

    @property
    def loaded_settings(self) -> Settings | None:
        """The settings if a command has loaded them already, else None (never loads them)."""
        return self._settings

    def print_error(self, message: str) -> None:
        """Print ``message`` on stderr as one ``error:`` line."""
        self.errors.print(f"[red]error:[/] {escape(message)}", soft_wrap=True)

    def fail(self, message: str, code: int = EXIT_FAILURE) -> NoReturn:
        """Print ``message`` as an error and exit with ``code``."""
        self.print_error(message)
        raise SystemExit(code)


pass_cli = click.make_pass_decorator(CliContext)
