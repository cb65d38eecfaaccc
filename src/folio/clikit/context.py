"""What every ``folio`` command shares: lazily loaded settings, the console, and the platform.

Key contracts:

- One ``CliContext`` per invocation, on ``click.Context.obj`` (``pass_cli`` hands it to a
  command). The root group makes it; a test invoking one command makes its own.
- Settings load on first use, so ``folio --help`` works with an invalid configuration.
- The platform is built on first use by the factory the entry point injects
  (``folio.bootstrap.build_platform``): this package sits below bootstrap and never
  imports it. ``run_on_platform`` is how a command does its async work on it.
- ``--shop SLUG`` is resolved by the resolver the entry point injects (identity's), so
  contexts below identity (audit, usage) take a shop by its slug without importing it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from folio.core.logging import configure_logging
from folio.core.settings import Settings, load_settings

if TYPE_CHECKING:
    from folio.core.data_migrations import TenantTarget
    from folio.core.platform import Platform

__all__ = [
    "EXIT_CONFIG_ERROR",
    "EXIT_FAILURE",
    "CliContext",
    "PlatformFactory",
    "ShopResolver",
    "pass_cli",
    "run_on_platform",
    "shop_option",
]

T = TypeVar("T")

EXIT_CONFIG_ERROR = 2
EXIT_FAILURE = 1

PlatformFactory = Callable[[Settings], "Platform"]
"""Builds the process's ``Platform`` from the settings, connecting to nothing yet."""

ShopResolver = Callable[["Platform", str], Awaitable["TenantTarget"]]
"""The shop called ``slug`` on the platform's database; ``NotFoundError`` when there is none."""


@dataclass
class CliContext:
    """State of one ``folio`` invocation, on ``click.Context.obj``."""

    config_file: Path | None = None
    verbosity: int = 0
    log_format: str | None = None
    console: Console = field(default_factory=lambda: Console(stderr=False, highlight=False))
    errors: Console = field(default_factory=lambda: Console(stderr=True, highlight=False))
    platform_factory: PlatformFactory | None = None
    shop_resolver: ShopResolver | None = None
    _settings: Settings | None = None
    _platform: Platform | None = None

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

    @property
    def data_dir(self) -> Path:
        """Where `folio data fetch` puts the public data sets and importers read them: ``<home>/data``."""
        return Path(self.settings.home) / "data"

    @property
    def platform(self) -> Platform:
        """The platform, built on first use from the settings; open until ``aclose_platform``.

        Raises ``RuntimeError`` when no factory was injected (a bug of whoever made this context).
        """
        if self._platform is None:
            if self.platform_factory is None:
                raise RuntimeError("this CliContext has no platform_factory (the entry point injects one)")
            self._platform = self.platform_factory(self.settings)
        return self._platform

    async def aclose_platform(self) -> None:
        """Close the platform if one was built; the next use of ``platform`` builds a new one."""
        platform, self._platform = self._platform, None
        if platform is not None:
            await platform.aclose()

    async def resolve_shop(self, platform: Platform, slug: str) -> TenantTarget:
        """The shop ``--shop SLUG`` names (``NotFoundError`` when there is none, one line at the root)."""
        if self.shop_resolver is None:
            raise RuntimeError("this CliContext has no shop_resolver (the entry point injects one)")
        return await self.shop_resolver(platform, slug)

    def print_error(self, message: str) -> None:
        """Print ``message`` on stderr as one ``error:`` line."""
        self.errors.print(f"[red]error:[/] {escape(message)}", soft_wrap=True)

    def fail(self, message: str, code: int = EXIT_FAILURE) -> NoReturn:
        """Print ``message`` as an error and exit with ``code``."""
        self.print_error(message)
        raise SystemExit(code)


pass_cli = click.make_pass_decorator(CliContext)

shop_option = click.option("--shop", "shop", required=True, metavar="SLUG", help="The shop, by its slug.")
"""The operator commands' ``--shop SLUG``; resolve it with ``CliContext.resolve_shop``."""


def run_on_platform(cli: CliContext, work: Callable[[Platform], Awaitable[T]]) -> T:
    """Run ``work`` on the invocation's platform in a new event loop, then close the platform.

    The platform's clients belong to the loop ``asyncio.run`` made, so the platform is
    closed (``Platform.aclose``) before the loop ends, whether ``work`` returned or
    raised; a command calls this once, and a second call would build a fresh platform.
    Errors propagate: the root group turns the expected ones (a ``FolioError`` such as an
    unknown shop, a database down or never migrated) into one line.
    """

    async def main() -> T:
        try:
            return await work(cli.platform)
        finally:
            await cli.aclose_platform()

    with _traced_command(cli):
        return asyncio.run(main())


@contextmanager
def _traced_command(cli: CliContext) -> Iterator[None]:
    """A command a traced process started (``TRACEPARENT``: the daily flow's tasks) is a span of its trace.

    Other commands start no telemetry: a person at a terminal has no trace to join.
    The span is named after the command (``folio tenants list``); its SQL and HTTP calls
    hang below it. A process whose telemetry already runs (a test) keeps it running.
    """
    from folio.core.telemetry import TRACEPARENT_ENV

    parent = os.environ.get(TRACEPARENT_ENV)
    if not parent:
        yield
        return
    from folio.core.telemetry import (
        extract_context,
        shutdown_telemetry,
        start_telemetry,
        telemetry_enabled,
        tracer,
    )

    started_here = False
    if not telemetry_enabled():
        started_here = start_telemetry(cli.settings.telemetry, service="folio-cli") is not None
    command = click.get_current_context(silent=True)
    try:
        # Named as typed, whatever the program's name (click's runner calls the root "cli").
        name = " ".join(["folio", *(command.command_path.split()[1:] if command else [])])
        with tracer().start_as_current_span(name, context=extract_context(parent)):
            yield
    finally:
        if started_here:
            shutdown_telemetry()
