"""Builders of small generated archives and data files in the real sources' formats.

Everything here is generated for tests (tiny, made-up content); none of it is real data.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import struct
import tarfile
import zipfile
import zlib

import numpy as np
from rdata.conversion import convert_python_to_r_data
from rdata.conversion.to_r import build_r_char, build_r_list, build_r_object
from rdata.parser import RObject, RObjectType
from rdata.unparser import unparse_data


def ar_archive(members: list[tuple[str, bytes]]) -> bytes:
    """An ``ar`` archive in the common format dpkg writes (short names, even padding)."""
    out = bytearray(b"!<arch>\n")
    for name, data in members:
        header = f"{name:<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}".encode("ascii") + b"`\n"
        out += header + data + (b"\n" if len(data) % 2 else b"")
    return bytes(out)


def tar_xz(files: dict[str, bytes]) -> bytes:
    """A tar.xz holding ``files`` under the given member names (``./usr/...`` as dpkg writes)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def debian_package(files: dict[str, bytes], *, data_member: str = "data.tar.xz") -> bytes:
    """A generated ``.deb``: debian-binary, a control tar and a data tar holding ``files``."""
    return ar_archive(
        [
            ("debian-binary", b"2.0\n"),
            ("control.tar.xz", tar_xz({"./control": b"Package: generated\n"})),
            (data_member, tar_xz(files)),
        ]
    )


def wheel(files: dict[str, bytes]) -> bytes:
    """A generated wheel (a zip) holding ``files`` by name, written as given (even unsafe names)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, body in files.items():
            zf.writestr(name, body)
    return buffer.getvalue()


def lzw_literals(data: bytes) -> bytes:
    """``data`` as a .Z LZW stream body (no header) that uses only literal codes.

    Valid LZW for any decoder: the decoder still grows its table, but with at most 255 codes
    the table stays under 512 entries, so every code is 9 bits wide, packed low bit first.
    """
    assert 0 < len(data) <= 255
    bits = 0
    count = 0
    for byte in data:
        bits |= byte << count
        count += 9
    return bits.to_bytes((count + 7) // 8, "little")


def ec02(text: bytes, *, block_size: int) -> bytes:
    """A generated Bible Retrieval System EC02 file holding ``text`` in ``block_size`` blocks."""
    blocks = [lzw_literals(text[i : i + block_size]) for i in range(0, len(text), block_size)]
    head = b"EC02Compressed Data File".ljust(0x54, b"\0") + struct.pack(">II", block_size, len(blocks))
    offset = len(head) + 4 * (len(blocks) + 1) + 3
    offsets = [offset]
    for block in blocks:
        offsets.append(offsets[-1] + len(block))
    table = struct.pack(f">{len(offsets)}I", *offsets)
    return head + table + b"\x1f\x9d\x90" + b"".join(blocks)


def _rds(obj: object) -> bytes:
    return unparse_data(convert_python_to_r_data(obj), file_format="xdr", file_type="rds")


def _symbol(name: str) -> RObject:
    return build_r_object(RObjectType.SYM, value=build_r_char(name, encoding="utf-8"))


def r_labelled_list_call(package: str, labels: dict[str, str]) -> bytes:
    """The serialized R call ``list("Label" = package::object, ...)``, as ``austen_books()`` holds."""
    arguments = [
        (
            _symbol(label),
            build_r_object(
                RObjectType.LANG, value=(_symbol("::"), build_r_list([_symbol(package), _symbol(name)]))
            ),
        )
        for name, label in labels.items()
    ]
    call = build_r_object(RObjectType.LANG, value=(_symbol("list"), build_r_list(arguments)))
    template = convert_python_to_r_data(0)
    return unparse_data(dataclasses.replace(template, object=call), file_format="xdr", file_type="rds")


def r_lazyload_db(objects: dict[str, bytes]) -> tuple[bytes, bytes]:
    """A generated R lazy-load database (``.rdx``, ``.rdb``) of serialized ``objects``, zlib entries."""
    rdb = bytearray()
    spans = {}
    for name, raw in objects.items():
        entry = struct.pack(">I", len(raw)) + zlib.compress(raw)
        spans[name] = np.array([len(rdb), len(entry)], dtype=np.int32)
        rdb += entry
    rdx = gzip.compress(_rds({"variables": spans, "compressed": True}))
    return rdx, bytes(rdb)


def r_character_vector(lines: list[str]) -> bytes:
    """A serialized R character vector."""
    return _rds(np.array(lines))


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _b64(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 64)
        digits = _B64[rest] + digits
        if not number:
            return digits


def dictd_database(entries: list[tuple[list[str], str]]) -> tuple[bytes, bytes]:
    """A generated dictd database (``.index``, ``.dict.dz``): each definition under its headwords."""
    text = ""
    lines: list[str] = []
    for headwords, definition in entries:
        lines.extend(f"{headword}\t{_b64(len(text))}\t{_b64(len(definition))}" for headword in headwords)
        text += definition
    index = "\n".join(sorted(lines)) + "\n"
    return index.encode("utf-8"), gzip.compress(text.encode("utf-8"))
