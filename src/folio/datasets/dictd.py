"""Read a dictd database: ``<name>.index`` and ``<name>.dict.dz``.

The ``.dict.dz`` is the definitions concatenated, gzip-compressed (dictzip adds random-access
tables in a gzip extra field, which plain gzip ignores). Each ``.index`` line is
``headword<TAB>offset<TAB>length``, offset and length in dictd's base64 digits
(``A-Za-z0-9+/`` = 0-63, most significant first) into the uncompressed text. Headwords that
start with ``00database`` are the database's own metadata (``00databaseshort`` the title,
``00databaseinfo`` the notice and preface, ``00databaseurl`` the source). See dictfmt(1).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from folio.datasets.errors import DatasetFormatError

_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_VALUE = {digit: value for value, digit in enumerate(_DIGITS)}
METADATA_PREFIX = "00database"


@dataclass(frozen=True, slots=True)
class DictEntry:
    """One index line: the headword and the span of its definition in the uncompressed text."""

    headword: str
    offset: int
    length: int


def decode_number(digits: str) -> int:
    """A dictd base64 number (``"BdqM"``); ``ValueError`` on a character outside the alphabet."""
    if not digits:
        raise ValueError("empty number")
    value = 0
    for digit in digits:
        if digit not in _VALUE:
            raise ValueError(f"{digit!r} is not a dictd base64 digit")
        value = value * 64 + _VALUE[digit]
    return value


@dataclass(frozen=True, slots=True)
class DictDatabase:
    """A dictd database loaded in memory: its index lines in file order and its text."""

    entries: tuple[DictEntry, ...]
    text: str

    @classmethod
    def load(cls, base: Path) -> DictDatabase:
        """Read ``base.index`` and ``base.dict.dz``; ``DatasetFormatError`` if either is malformed."""
        index = base.with_name(base.name + ".index")
        entries = []
        for number, line in enumerate(index.read_text(encoding="utf-8").splitlines(), start=1):
            headword, *numbers = line.split("\t")
            try:
                offset, length = (decode_number(number) for number in numbers)
            except ValueError as error:
                # Too few or too many fields land here too, as an unpacking error.
                raise DatasetFormatError(f"{index.name} line {number}: {error}") from None
            entries.append(DictEntry(headword, offset, length))
        try:
            text = gzip.decompress(base.with_name(base.name + ".dict.dz").read_bytes()).decode("utf-8")
        except (OSError, EOFError, zlib.error, UnicodeDecodeError) as error:
            raise DatasetFormatError(f"{base.name}.dict.dz: not gzip-compressed UTF-8 ({error})") from None
        # Offsets count bytes of the UTF-8 text; the Devil's Dictionary is ASCII, so they are
        # characters too. Checking the last span catches an index that belongs to another file.
        if any(entry.offset + entry.length > len(text) for entry in entries):
            raise DatasetFormatError(f"{index.name}: an entry points past the end of the text")
        return cls(entries=tuple(entries), text=text)

    def definition(self, entry: DictEntry) -> str:
        """The text of one entry's definition."""
        return self.text[entry.offset : entry.offset + entry.length]

    def metadata(self, name: str) -> str | None:
        """The body of metadata entry ``00database<name>`` (its first line, the key, dropped)."""
        for entry in self.entries:
            if entry.headword == METADATA_PREFIX + name:
                body = self.definition(entry)
                first, _, rest = body.partition("\n")
                # Some entries repeat their key as the first line ("00-database-short").
                return rest if first.startswith("00-database-") else body
        return None

    def words(self) -> Iterator[tuple[str, str]]:
        """``(headword, definition)`` for every dictionary entry, in index (alphabetical) order."""
        for entry in self.entries:
            if not entry.headword.startswith(METADATA_PREFIX):
                yield entry.headword, self.definition(entry)

    def body(self) -> str:
        """The work as printed: the notice and preface, then each definition once, in file order.

        Several headwords can share one definition (the same span); spans are de-duplicated and
        laid out by offset, which is the order of the source text.
        """
        spans = {
            (entry.offset, entry.length)
            for entry in self.entries
            if not entry.headword.startswith(METADATA_PREFIX) or entry.headword == METADATA_PREFIX + "info"
        }
        return "".join(self.text[offset : offset + length] for offset, length in sorted(spans)).strip() + "\n"
