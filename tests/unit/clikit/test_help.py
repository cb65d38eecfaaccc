"""``clikit.examples``: the epilog every command's help ends with."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from folio.clikit import examples

pytestmark = pytest.mark.unit


def test_examples_keep_their_lines_in_the_help() -> None:
    """Each example is shown on its own indented line under "Examples:", never rewrapped."""

    @click.command(epilog=examples("folio x --shop riverside-books", "folio x --json"))
    def command() -> None:
        """Do x."""

    help_text = CliRunner().invoke(command, ["--help"], terminal_width=40).output
    assert "  Examples:\n    folio x --shop riverside-books\n    folio x --json\n" in help_text


def test_a_command_needs_at_least_one_example() -> None:
    """An empty list of examples is a mistake in the command, refused at import."""
    with pytest.raises(ValueError, match="at least one"):
        examples()
