"""``scripts/changelog_section.py``: the release notes a tag gets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SCRIPT = REPO_ROOT / "scripts" / "changelog_section.py"

pytestmark = pytest.mark.unit

SAMPLE = """\
# Changelog

All notable changes.

## [Unreleased]

### Added

- Shelf labels.

## [1.2.0] - 2026-03-01

### Added

- Gift cards.

### Fixed

- Totals rounded half-up.

## [1.1.0] - 2026-01-15

- First public release.

[Unreleased]: https://example.invalid/compare/v1.2.0...HEAD
[1.2.0]: https://example.invalid/compare/v1.1.0...v1.2.0
[1.1.0]: https://example.invalid/releases/v1.1.0
"""


def run(*args: str, changelog: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the script as the release workflow does."""
    extra = ["--file", str(changelog)] if changelog is not None else []
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args, *extra],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
    )


@pytest.fixture
def changelog(tmp_path: Path) -> Path:
    """A Keep-a-Changelog file with an unreleased and two released sections."""
    path = tmp_path / "CHANGELOG.md"
    path.write_text(SAMPLE, encoding="utf-8")
    return path


def test_prints_the_body_of_the_version_section(changelog: Path) -> None:
    """The section body is printed, without its heading and without the next section."""
    done = run("1.2.0", changelog=changelog)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "### Added\n\n- Gift cards.\n\n### Fixed\n\n- Totals rounded half-up.\n"


def test_accepts_a_tag_name(changelog: Path) -> None:
    """A tag such as ``v1.2.0`` selects the ``1.2.0`` section."""
    assert run("v1.2.0", changelog=changelog).stdout == run("1.2.0", changelog=changelog).stdout


def test_last_section_leaves_out_the_link_definitions(changelog: Path) -> None:
    """The link definitions that close the file are not part of the last section."""
    done = run("1.1.0", changelog=changelog)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "- First public release.\n"


def test_unreleased_section_is_found_case_insensitively(changelog: Path) -> None:
    """``unreleased`` selects the ``[Unreleased]`` section."""
    done = run("unreleased", changelog=changelog)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "### Added\n\n- Shelf labels.\n"


def test_missing_version_is_an_error_naming_the_known_ones(changelog: Path) -> None:
    """An unknown version exits 1, prints nothing on stdout and lists the sections there are."""
    done = run("v9.9.9", changelog=changelog)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "no section for version 9.9.9" in done.stderr
    assert "Unreleased, 1.2.0, 1.1.0" in done.stderr


def test_empty_section_is_an_error(tmp_path: Path) -> None:
    """A version whose section has no text exits 1, so a release never has empty notes."""
    path = tmp_path / "CHANGELOG.md"
    path.write_text(
        "# Changelog\n\n## [2.0.0] - 2026-05-01\n\n## [1.0.0]\n\n- Something.\n", encoding="utf-8"
    )
    done = run("2.0.0", changelog=path)
    assert done.returncode == 1
    assert "section for version 2.0.0 is empty" in done.stderr


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    """A changelog that does not exist exits 1 with the path in the message."""
    missing = tmp_path / "nope.md"
    done = run("1.0.0", changelog=missing)
    assert done.returncode == 1
    assert str(missing) in done.stderr


def test_the_project_changelog_has_unreleased_notes() -> None:
    """The repository's own CHANGELOG.md parses and has a non-empty Unreleased section."""
    done = run("Unreleased")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("### ")
