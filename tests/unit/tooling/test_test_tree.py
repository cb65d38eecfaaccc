"""The tests mirror the source tree: tests/{unit,integration,e2e}/<package>/ for a package of src/folio."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

SOURCE = REPO_ROOT / "src" / "folio"
NOT_PACKAGES = {
    "tooling": "the repository's own tooling: scripts/, workflows, docs build, the import contracts",
    "benchmarks": "benchmarks/ at the repository root, beside src/",
}
"""Test folders that mirror something outside src/folio, with what they mirror."""


def _folders(root: Path) -> list[Path]:
    return sorted(child for child in root.iterdir() if child.is_dir() and (child / "__init__.py").exists())


def _is_source(relative: Path) -> bool:
    """A package or module of src/folio at this relative path (``bootstrap`` is a module)."""
    target = SOURCE / relative
    return (target / "__init__.py").exists() or target.with_suffix(".py").exists()


@pytest.mark.parametrize("kind", ["unit", "integration", "e2e"])
def test_each_test_folder_names_a_package_of_folio(kind: str) -> None:
    """Every folder under tests/<kind>/ (and under its entrypoints/) is named after what it tests."""
    root = REPO_ROOT / "tests" / kind
    strays = [
        str(folder.relative_to(root))
        for folder in _folders(root)
        if not _is_source(folder.relative_to(root)) and folder.name not in NOT_PACKAGES
    ]
    entrypoints = root / "entrypoints"
    if entrypoints.is_dir():
        strays += [
            str(folder.relative_to(root))
            for folder in _folders(entrypoints)
            if not _is_source(folder.relative_to(root))
        ]
    assert strays == []
