"""The King James Bible of Debian's ``bible-kjv-text``: its compressed file and its verse lines.

``usr/lib/bible.data`` is the Bible Retrieval System's "EC02" file (Chip Chapin, 1989). Its
layout, as read from the file and checked on every read (the format has no published spec;
the package's source is the reference):

* bytes 0-3: ``EC02``; then a NUL-padded description, "Compressed Data File";
* at 0x54, big-endian uint32s: the uncompressed block size (65536), the block count ``n``,
  then ``n + 1`` file offsets, where block ``i`` spans ``offsets[i]:offsets[i + 1]`` and the
  last offset is the file's size;
* the 3 bytes before ``offsets[0]``: a Unix ``compress`` (.Z) header, ``1f 9d`` plus the flags
  byte. Each block is an independent .Z LZW stream written under that one header, so a block
  is decompressed by prefixing the header (the unlzw3 library does the LZW).

Decompressed, it is one title line, then one verse per line: ``Ge1:1 In the beginning ...``,
a book abbreviation, chapter:verse, a space and the text.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import unlzw3

from folio.datasets.errors import DatasetFormatError

_MAGIC = b"EC02"
_TABLE = 0x54
_Z_MAGIC = b"\x1f\x9d"
_VERSE = re.compile(r"(?P<book>[1-3]?[A-Za-z]+)(?P<chapter>\d+):(?P<verse>\d+) (?P<text>.*)")

#: The data's book abbreviations, in its order, with the books' usual English names. The file
#: holds only the abbreviations; the names are the conventional titles of the KJV's 66 books.
BOOKS: dict[str, str] = {
    "Ge": "Genesis",
    "Exo": "Exodus",
    "Lev": "Leviticus",
    "Num": "Numbers",
    "Deu": "Deuteronomy",
    "Josh": "Joshua",
    "Jdgs": "Judges",
    "Ruth": "Ruth",
    "1Sm": "1 Samuel",
    "2Sm": "2 Samuel",
    "1Ki": "1 Kings",
    "2Ki": "2 Kings",
    "1Chr": "1 Chronicles",
    "2Chr": "2 Chronicles",
    "Ezra": "Ezra",
    "Neh": "Nehemiah",
    "Est": "Esther",
    "Job": "Job",
    "Psa": "Psalms",
    "Prv": "Proverbs",
    "Eccl": "Ecclesiastes",
    "SSol": "Song of Solomon",
    "Isa": "Isaiah",
    "Jer": "Jeremiah",
    "Lam": "Lamentations",
    "Eze": "Ezekiel",
    "Dan": "Daniel",
    "Hos": "Hosea",
    "Joel": "Joel",
    "Amos": "Amos",
    "Obad": "Obadiah",
    "Jonah": "Jonah",
    "Mic": "Micah",
    "Nahum": "Nahum",
    "Hab": "Habakkuk",
    "Zep": "Zephaniah",
    "Hag": "Haggai",
    "Zec": "Zechariah",
    "Mal": "Malachi",
    "Mat": "Matthew",
    "Mark": "Mark",
    "Luke": "Luke",
    "John": "John",
    "Acts": "Acts",
    "Rom": "Romans",
    "1Cor": "1 Corinthians",
    "2Cor": "2 Corinthians",
    "Gal": "Galatians",
    "Eph": "Ephesians",
    "Phi": "Philippians",
    "Col": "Colossians",
    "1Th": "1 Thessalonians",
    "2Th": "2 Thessalonians",
    "1Tim": "1 Timothy",
    "2Tim": "2 Timothy",
    "Titus": "Titus",
    "Phmn": "Philemon",
    "Heb": "Hebrews",
    "Jas": "James",
    "1Pet": "1 Peter",
    "2Pet": "2 Peter",
    "1Jn": "1 John",
    "2Jn": "2 John",
    "3Jn": "3 John",
    "Jude": "Jude",
    "Rev": "Revelation",
}


@dataclass(frozen=True, slots=True)
class Verse:
    """One verse: the data's book abbreviation, chapter, verse number and text."""

    book: str
    chapter: int
    verse: int
    text: str


def decompress_ec02(data: bytes) -> bytes:
    """The text of an EC02 file (layout in the module docstring); ``DatasetFormatError`` if malformed."""
    if data[:4] != _MAGIC or len(data) < _TABLE + 8:
        raise DatasetFormatError("not a Bible Retrieval System EC02 file (bad magic)")
    block_size, count = struct.unpack_from(">II", data, _TABLE)
    table_end = _TABLE + 8 + 4 * (count + 1)
    if len(data) < table_end:
        raise DatasetFormatError("EC02 file: block table runs past the end")
    offsets = struct.unpack_from(f">{count + 1}I", data, _TABLE + 8)
    header = data[offsets[0] - 3 : offsets[0]] if count else b""
    ordered = all(a <= b for a, b in pairwise(offsets))
    if not (header[:2] == _Z_MAGIC and offsets[0] == table_end + 3 and ordered and offsets[-1] == len(data)):
        raise DatasetFormatError("EC02 file: block table or .Z header is not as expected")
    blocks = []
    for index, (start, end) in enumerate(pairwise(offsets)):
        try:
            block: bytes = unlzw3.unlzw(header + data[start:end])
        except (ValueError, IndexError) as error:
            raise DatasetFormatError(f"EC02 block {index} does not decompress: {error}") from None
        if len(block) != block_size and index != count - 1:
            raise DatasetFormatError(f"EC02 block {index} is {len(block)} bytes, not {block_size}")
        blocks.append(block)
    return b"".join(blocks)


def read_verses(path: Path) -> tuple[str, Iterator[Verse]]:
    """The title line of ``bible.data`` and its verses in order.

    Raises ``DatasetFormatError`` for a line that is not a verse or names an unknown book.
    """
    text = decompress_ec02(path.read_bytes()).decode("ascii")
    title, _, body = text.partition("\n")
    return title.strip(), _verses(body)


def _verses(body: str) -> Iterator[Verse]:
    for number, line in enumerate(body.splitlines(), start=2):
        if not line:
            continue
        match = _VERSE.fullmatch(line)
        if match is None or match["book"] not in BOOKS:
            raise DatasetFormatError(f"bible.data line {number} is not a verse: {line[:60]!r}")
        yield Verse(match["book"], int(match["chapter"]), int(match["verse"]), match["text"])
