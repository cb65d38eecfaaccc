"""Read objects from an R lazy-load database (``<name>.rdx`` index + ``<name>.rdb`` data).

R installs a package's data sets and functions this way (``LazyData: true``). The ``.rdx`` is
one serialized R list, gzip-compressed: ``variables`` maps each object name to its
``c(offset, length)`` in the ``.rdb``, and ``compressed`` says how entries are packed. Each
``.rdb`` entry is a 4-byte big-endian uncompressed size, then (R's ``lazyLoadDBinsertValue``):

* ``compressed = TRUE``: a zlib stream;
* ``compressed`` 2 or 3: one type byte, ``2`` bzip2, ``Z`` xz, ``0`` stored, then the data.

The payload is an ordinary R serialization, which the ``rdata`` library parses.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import struct
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rdata
from rdata.parser import RObject, RObjectType

from folio.datasets.errors import DatasetFormatError


def _parse(raw: bytes) -> RObject:
    # The payload has no file header, so say what it is: rdata would otherwise warn.
    return rdata.parser.parse_data(raw, extension=".rds").object


def _convert(raw: bytes) -> Any:
    return rdata.conversion.convert(rdata.parser.parse_data(raw, extension=".rds"))


@dataclass(frozen=True, slots=True)
class LazyLoadDb:
    """An opened lazy-load database: the object index and how to fetch each object's bytes."""

    rdb: Path
    variables: Mapping[str, tuple[int, int]]
    compression: int

    @classmethod
    def open(cls, base: Path) -> LazyLoadDb:
        """Read ``base.rdx``; ``DatasetFormatError`` if it is not a lazy-load index."""
        index_path = base.with_suffix(".rdx")
        try:
            index = _convert(gzip.decompress(index_path.read_bytes()))
            variables = {
                str(name): (int(span[0]), int(span[1])) for name, span in dict(index["variables"]).items()
            }
            flag = np.asarray(index["compressed"]).ravel()[0]
        except (OSError, KeyError, TypeError, ValueError, IndexError, zlib.error) as error:
            raise DatasetFormatError(f"{index_path.name}: not an R lazy-load index ({error})") from error
        # TRUE (zlib) converts to a bool; 2 and 3 to numbers.
        compression = 1 if isinstance(flag, np.bool_ | bool) else int(flag)
        return cls(rdb=base.with_suffix(".rdb"), variables=variables, compression=compression)

    def raw(self, name: str) -> bytes:
        """The serialized bytes of object ``name``, decompressed."""
        offset, length = self.variables[name]
        with self.rdb.open("rb") as fh:
            fh.seek(offset)
            entry = fh.read(length)
        (size,) = struct.unpack(">I", entry[:4])
        try:
            data = self._decompress(entry[4:])
        except (zlib.error, OSError, lzma.LZMAError, ValueError) as error:
            raise DatasetFormatError(
                f"{self.rdb.name}: entry {name!r} does not decompress: {error}"
            ) from None
        if len(data) != size:
            raise DatasetFormatError(f"{self.rdb.name}: entry {name!r} is {len(data)} bytes, not {size}")
        return data

    def _decompress(self, body: bytes) -> bytes:
        if self.compression == 1:
            return zlib.decompress(body)
        kind, payload = body[:1], body[1:]
        if kind == b"2":
            return bz2.decompress(payload)
        if kind == b"Z":
            return lzma.decompress(payload)
        if kind == b"0":
            return payload
        raise ValueError(f"unknown entry type {kind!r}")

    def character_vector(self, name: str) -> list[str]:
        """Object ``name``, which must be a character vector, as strings (``NA`` as ``""``)."""
        value = _convert(self.raw(name))
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "UO":
            raise DatasetFormatError(f"{self.rdb.name}: {name!r} is not a character vector")
        return ["" if item is None else str(item) for item in value.tolist()]

    def parsed(self, name: str) -> RObject:
        """Object ``name`` as rdata's parse tree, unconverted (functions, calls)."""
        return _parse(self.raw(name))


def named_references(root: RObject) -> Iterator[tuple[str, str, str]]:
    """Every ``"label" = pkg::object`` argument in an R parse tree, as ``(label, pkg, object)``.

    Finds the mapping a function such as janeaustenr's ``austen_books()`` spells out,
    ``list("Pride & Prejudice" = janeaustenr::prideprejudice, ...)``, wherever it sits (in the
    function's body or its byte code's constants). References (``REF``) are followed, and each
    node is visited once, so shared subtrees and cycles are harmless.
    """
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        while node.info.type == RObjectType.REF and node.referenced_object is not None:
            node = node.referenced_object
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.info.type == RObjectType.LIST and node.tag is not None:
            found = _qualified_name(node.value[0])
            label = _symbol(node.tag)
            if found is not None and label is not None:
                yield (label, *found)
        children = node.value if isinstance(node.value, tuple | list) else ()
        for child in children:
            if isinstance(child, RObject):
                stack.append(child)
            elif isinstance(child, list):
                stack.extend(item for item in child if isinstance(item, RObject))
        stack.extend(extra for extra in (node.attributes, node.tag) if extra is not None)


def _symbol(node: RObject) -> str | None:
    while node.info.type == RObjectType.REF and node.referenced_object is not None:
        node = node.referenced_object
    if node.info.type != RObjectType.SYM:
        return None
    name = node.value.value
    return name.decode("utf-8") if isinstance(name, bytes) else None


def _qualified_name(node: RObject) -> tuple[str, str] | None:
    """``(pkg, object)`` if ``node`` is the call ``pkg::object``."""
    if node.info.type != RObjectType.LANG or _symbol(node.value[0]) != "::":
        return None
    args = node.value[1]
    if args.info.type != RObjectType.LIST or args.value[1].info.type != RObjectType.LIST:
        return None
    package, member = _symbol(args.value[0]), _symbol(args.value[1].value[0])
    return (package, member) if package is not None and member is not None else None
