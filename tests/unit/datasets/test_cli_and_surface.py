"""`folio data list|fetch` over the whole manifest, the public surface, and the field splitter."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from folio.datasets import api
from folio.datasets.bookcrossing import split_fields
from folio.entrypoints.cli import build_cli

pytestmark = pytest.mark.unit


def test_every_source_is_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`folio data list` shows every manifest entry, each not yet fetched in an empty home."""
    monkeypatch.setenv("FOLIO_HOME", str(tmp_path))
    result = CliRunner().invoke(build_cli(), ["data", "list"])
    assert result.exit_code == 0, result.output
    for source in api.load_sources().values():
        assert f"{source.name}  [not fetched]  {source.kind}  {source.licence}" in result.output
    assert {s.kind for s in api.load_sources().values()} == {"pypi-sdist", "pypi-wheel", "debian-package"}


def test_fetch_needs_names_or_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither names nor --all, or both, is a usage error and downloads nothing."""
    monkeypatch.setenv("FOLIO_HOME", str(tmp_path))
    runner = CliRunner()
    for args in (["data", "fetch"], ["data", "fetch", "--all", "bible-kjv"]):
        result = runner.invoke(build_cli(), args)
        assert result.exit_code == 2
        assert "--all" in result.output
    assert not (tmp_path / "data").exists()


def test_fetch_all_skips_what_is_already_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--all walks the whole manifest; sources whose marker is in place are not downloaded again."""
    monkeypatch.setenv("FOLIO_HOME", str(tmp_path))
    for source in api.load_sources().values():
        (tmp_path / "data" / source.name).mkdir(parents=True)
        (tmp_path / "data" / source.name / ".fetched").write_text(source.sha256 + "\n", encoding="utf-8")
    result = CliRunner().invoke(build_cli(), ["data", "fetch", "--all"])
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.output.splitlines()] == list(api.load_sources())


def test_public_surface() -> None:
    """The api module exports exactly the names the catalogue import and the CLI rely on."""
    assert sorted(api.__all__) == sorted(
        [
            "BOOK_FIELDS",
            "RATING_FIELDS",
            "USER_FIELDS",
            "ChecksumMismatchError",
            "DataSource",
            "DatasetFormatError",
            "DatasetNotFetchedError",
            "InvalidManifestError",
            "NotATextSourceError",
            "PublicDomainText",
            "RawRow",
            "UnknownDatasetError",
            "UnreadableArchiveError",
            "UnsafeArchiveError",
            "fetch",
            "get_source_or_raise",
            "is_fetched",
            "load_sources",
            "read_book_crossing_books",
            "read_book_crossing_ratings",
            "read_book_crossing_users",
            "read_public_domain_texts",
        ]
    )
    assert all(hasattr(api, name) for name in api.__all__)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@given(st.lists(st.text(alphabet=st.characters(codec="latin-1", exclude_characters="\r\n")), min_size=1))
def test_split_fields_round_trips_quoted_values(values: list[str]) -> None:
    """Any latin-1 values, quoted with backslash escapes and joined by ';', split back unchanged."""
    assert split_fields(";".join(_quote(value) for value in values)) == values


def test_split_fields_bare_values_and_errors() -> None:
    """Bare values (NULL) mix with quoted ones; stray quotes and dangling escapes are errors."""
    assert split_fields('"1";NULL;"a;b"') == ["1", "NULL", "a;b"]
    assert split_fields("") == [""]
    for bad in ('"open', '"a"b', 'a"b', '"a\\"'):
        with pytest.raises(ValueError, match="malformed quoting"):
            split_fields(bad)
