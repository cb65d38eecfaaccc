"""How long-running ops work tells the user what it is doing (the CLI draws it with rich)."""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    """Receives progress from installs and starts; the CLI renders it as a progress bar."""

    def begin(self, total: int, description: str) -> None:
        """A phase with ``total`` steps starts."""

    def step(self, description: str) -> None:
        """One step of the current phase is about to run."""

    def done(self, description: str) -> None:
        """The current phase ended."""


class SilentReporter:
    """A reporter that reports nothing (tests, non-interactive callers)."""

    def begin(self, total: int, description: str) -> None:
        """Ignore the phase."""

    def step(self, description: str) -> None:
        """Ignore the step."""

    def done(self, description: str) -> None:
        """Ignore the end."""
