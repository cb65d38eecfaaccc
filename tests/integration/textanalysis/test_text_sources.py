"""`folio text` over the real public-domain text sets (fetched into the repo's data folder when missing)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from folio.entrypoints.cli import build_cli

pytestmark = pytest.mark.integration


def test_the_repl_mixes_real_text_sets() -> None:
    """--source mixes text sets; their works are named source:key, and a query finds Bierce's entry."""
    result = CliRunner().invoke(
        build_cli(),
        ["text", "repl", "--source", "devils-dictionary", "--source", "austen-novels", "--limit", "7"],
        input="cynic blackguard\n\n",
    )
    assert result.exit_code == 0, result.output
    assert "7 works loaded" in result.output
    hits = re.findall(r"(\d\.\d{4})  (\S+)", result.output)
    assert hits[0][1] == "devils-dictionary:devils-dictionary"
    assert {name.split(":")[0] for _, name in hits} <= {"devils-dictionary", "austen-novels"}
    assert [float(score) for score, _ in hits] == sorted((float(score) for score, _ in hits), reverse=True)
