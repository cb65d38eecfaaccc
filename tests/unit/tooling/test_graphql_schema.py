"""scripts/graphql_schema.py: the exported SDL is fresh, and a breaking change to the released one fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.scripts import load_script

pytestmark = pytest.mark.unit

script = load_script("graphql_schema")


def test_the_repositorys_schema_is_exported_and_compatible() -> None:
    """schema/folio.graphql is what the code composes, and breaks nothing released (make lint's check)."""
    assert script.check(script.SCHEMA_DIR, script.current_sdl()) == []


def test_a_missing_export_is_stale(tmp_path: Path) -> None:
    """No schema/folio.graphql: the check asks for --write."""
    assert ["--write" in problem for problem in script.check(tmp_path, "type Query { a: Int }\n")] == [True]


def test_removing_a_released_field_is_a_breaking_change(tmp_path: Path) -> None:
    """A field the released schema had is gone: the check names it."""
    sdl = "type Query { a: Int }\n"
    (tmp_path / script.CURRENT).write_text(sdl)
    (tmp_path / script.RELEASED).write_text("type Query { a: Int b: String }\n")
    problems = script.check(tmp_path, sdl)
    assert len(problems) == 1
    assert "Query.b was removed" in problems[0]


def test_adding_a_field_is_compatible(tmp_path: Path) -> None:
    """A new field breaks no client."""
    sdl = "type Query { a: Int b: String }\n"
    (tmp_path / script.CURRENT).write_text(sdl)
    (tmp_path / script.RELEASED).write_text("type Query { a: Int }\n")
    assert script.check(tmp_path, sdl) == []
