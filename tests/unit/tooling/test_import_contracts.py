"""The architecture's import contracts (pyproject's [tool.importlinter]) hold, and say what we mean."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

CONTEXTS = ("search", "catalog", "identity", "tasks", "audit", "usage", "mail")
LIBRARIES = ("pdfindex", "textanalysis", "datasets")
"""Leaf packages below the contexts; like contexts, reached only through their api."""


def _contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return {str(contract["id"]): contract for contract in contracts}


def test_lint_imports_passes() -> None:
    """`lint-imports` finds every contract kept."""
    script = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(script), "--no-cache"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_layers_put_contexts_between_bootstrap_and_httpkit() -> None:
    """Layers run entrypoints > bootstrap > (ops : contexts) > text tools > httpkit > core."""
    layers = _contracts()["layers"]["layers"]
    assert isinstance(layers, list)
    assert layers[:2] == ["folio.entrypoints", "folio.bootstrap"]
    assert layers[-2:] == ["folio.httpkit", "folio.core"]
    assert {part.strip() for part in layers[2].split(":")} == {"folio.ops", *(f"folio.{c}" for c in CONTEXTS)}
    assert layers[3:-2] == ["folio.pdfindex", "folio.datasets | folio.textanalysis"]


def test_contexts_are_ordered() -> None:
    """Contexts run search > (tasks | catalog) > identity > (audit | usage | mail), leaves independent."""
    assert _contracts()["contexts"]["layers"] == [
        "folio.search",
        "folio.tasks | folio.catalog",
        "folio.identity",
        "folio.audit | folio.usage | folio.mail",
    ]


@pytest.mark.parametrize("context", CONTEXTS + LIBRARIES)
def test_each_context_is_reached_only_through_its_api(context: str) -> None:
    """Every context has a protected contract whose only exception is its api module."""
    contract = _contracts()[f"{context}-api-only"]
    assert contract["type"] == "protected"
    assert contract["protected_modules"] == [f"folio.{context}.*"]
    assert contract["allowed_importers"] == [f"folio.{context}"]
    assert contract["ignore_imports"] == [f"folio.** -> folio.{context}.api"]
