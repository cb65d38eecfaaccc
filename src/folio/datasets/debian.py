r"""Debian binary packages (``.deb``): a tiny ``ar`` reader and extraction of the package's files.

A ``.deb`` is an ``ar`` archive of three members, in this order: ``debian-binary`` (the format
version, ``2.0``), ``control.tar.*`` (maintainer scripts) and ``data.tar.*`` (the files the
package installs, named ``./usr/...``). See deb(5) and ar(5).

The common ``ar`` format is 8 magic bytes, then per member a 60-byte ASCII header (name 16,
mtime 12, uid 6, gid 6, mode 8, size 10, the two bytes ``` `\n` ``) followed by ``size`` bytes of
data padded to an even offset. dpkg writes short names only, so the GNU and BSD long-name
extensions are not needed; a name using them is returned as written and simply never matches
``data.tar.*``. We read it ourselves rather than add a dependency: it is twenty lines, and the
one maintained library for it (arpy) ships no type information.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from folio.datasets.archives import UnreadableArchiveError, extract_tar_bytes

_MAGIC = b"!<arch>\n"
_HEADER = 60
_END = b"`\n"
#: The copyright and changelog of a package: extracted with its data, so the licence stays beside it.
DOC_PATTERN = "usr/share/doc/*/*"


@dataclass(frozen=True, slots=True)
class ArMember:
    """One member of an ``ar`` archive: its name and where its bytes lie in the file."""

    name: str
    offset: int
    size: int


def read_ar_members(archive: Path) -> Iterator[ArMember]:
    """The members of ``ar`` archive ``archive``, in order; ``UnreadableArchiveError`` if malformed."""
    with archive.open("rb") as fh:
        if fh.read(len(_MAGIC)) != _MAGIC:
            raise UnreadableArchiveError(f"{archive.name}: not an ar archive (no !<arch> magic)")
        offset = len(_MAGIC)
        while header := fh.read(_HEADER):
            if len(header) != _HEADER or header[58:60] != _END:
                raise UnreadableArchiveError(f"{archive.name}: truncated or corrupt ar header at {offset}")
            try:
                name = header[0:16].decode("ascii").rstrip(" ").removesuffix("/")
                size = int(header[48:58].decode("ascii").strip())
            except (UnicodeDecodeError, ValueError) as error:
                raise UnreadableArchiveError(f"{archive.name}: bad ar header at {offset}: {error}") from None
            data_offset = offset + _HEADER
            yield ArMember(name=name, offset=data_offset, size=size)
            # Members start at even offsets: an odd-sized one is followed by one "\n" of padding.
            offset = data_offset + size + (size & 1)
            fh.seek(offset)


def read_ar_member(archive: Path, member: ArMember) -> bytes:
    """The bytes of one member; ``UnreadableArchiveError`` if the file ends early."""
    with archive.open("rb") as fh:
        fh.seek(member.offset)
        data = fh.read(member.size)
    if len(data) != member.size:
        raise UnreadableArchiveError(f"{archive.name}: member {member.name} is truncated")
    return data


def extract_debian_package(archive: Path, staging: Path, *, files: str) -> None:
    """Extract the installed files matching glob ``files`` (and the package's docs) into ``staging``.

    Paths are the package's install paths without the leading ``/`` (``usr/lib/bible.data``).
    The ``data.tar`` member is read into memory: the packages in the manifest are a few MB.
    """
    members = {member.name: member for member in read_ar_members(archive)}
    data = [member for name, member in members.items() if name.startswith("data.tar")]
    if "debian-binary" not in members or len(data) != 1:
        found = ", ".join(members) or "nothing"
        raise UnreadableArchiveError(f"{archive.name}: not a Debian package (holds {found})")
    if not data[0].name.endswith((".tar", ".gz", ".xz", ".bz2")):
        raise UnreadableArchiveError(f"{archive.name}: {data[0].name} is compressed in a way we do not read")
    extract_tar_bytes(read_ar_member(archive, data[0]), staging, patterns=(files, DOC_PATTERN))
