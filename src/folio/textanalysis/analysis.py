r"""The one analysis chain for Folio's text features: text in, index terms out.

Every feature that compares words (TF-IDF reports, the PDF index, search) runs text through
``analyze`` so a query and a document always meet on the same terms. The chain, in order:

1. find words in the original text: runs of letters/digits (Unicode ``\w`` without ``_``,
   combining marks included), joined by inner apostrophes (``'`` or U+2019);
2. per word: Unicode NFKC (ligatures, full-width forms, ``²`` → ``2``), ``casefold``
   (``ß`` → ``ss``), ASCII folding of diacritics (NFKD, combining marks dropped:
   ``Café`` → ``cafe``; letters with no ASCII form, such as Greek, stay as they are);
3. apostrophes: a possessive ``'s`` is dropped (``king's`` → ``king``), other apostrophes
   are removed and the word kept whole (``o'er`` → ``oer``, ``don't`` → ``dont``), so a
   word never falls apart into fragments like ``s`` or ``t``;
4. English stopwords removed (scikit-learn's list, see ``stopwords.py``), optional;
5. Snowball English stemming (``running`` → ``run``), optional.

Positions count every word found in step 1, stopwords included, so phrase and proximity
queries keep the gaps where stopwords were.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer  # type: ignore[import-untyped]  # ships no type hints

from folio.textanalysis.stopwords import ENGLISH_STOP_WORDS

__all__ = [
    "ENGLISH_STOP_WORDS",
    "Token",
    "analyze",
    "analyze_tokens",
    "commonest_spellings",
    "normalize_word",
    "stem",
]

_WORD_CHAR = r"(?:[^\W_]|[\u0300-\u036f])"
_WORD_RE = re.compile(rf"{_WORD_CHAR}+(?:['\u2019]{_WORD_CHAR}+)*")
_PART_RE = re.compile(r"[^\W_]+")
_STEMMER = snowballstemmer.stemmer("english")


@dataclass(frozen=True, slots=True)
class Token:
    """One analysed term.

    ``text[start:end]`` is the word it came from; ``position`` its index among all words of
    the text, stopwords counted.
    """

    term: str
    position: int
    start: int
    end: int


def normalize_word(word: str) -> str:
    """NFKC, casefold and fold diacritics to ASCII; apostrophes handled as the module says."""
    folded = unicodedata.normalize("NFKC", word).casefold().replace("\u2019", "'")
    decomposed = unicodedata.normalize("NFKD", folded)
    folded = unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))
    if folded.endswith("'s"):
        folded = folded[:-2]
    return folded.replace("'", "")


@lru_cache(maxsize=65536)
def stem(term: str) -> str:
    """The Snowball (Porter2) English stem of an already normalised term."""
    result: str = _STEMMER.stemWord(term)
    return result


@lru_cache(maxsize=262144)
def _terms_of_word(word: str, remove_stopwords: bool, stemming: bool) -> tuple[str, ...]:
    """The terms one word gives; cached, as a corpus repeats its words many times."""
    terms: list[str] = []
    for part in _PART_RE.findall(normalize_word(word)):
        if remove_stopwords and part in ENGLISH_STOP_WORDS:
            continue
        terms.append(stem(part) if stemming else part)
    return tuple(terms)


def analyze_tokens(text: str, *, remove_stopwords: bool = True, stemming: bool = True) -> list[Token]:
    """Analyse ``text`` into tokens with positions and character offsets into ``text``.

    One word can give more than one term when normalisation splits it (``½`` becomes ``1``,
    U+2044, ``2``: two terms); those terms share the word's position and offsets.
    """
    return [
        Token(term, position, match.start(), match.end())
        for position, match in enumerate(_WORD_RE.finditer(text))
        for term in _terms_of_word(match.group(), remove_stopwords, stemming)
    ]


def analyze(text: str, *, remove_stopwords: bool = True, stemming: bool = True) -> list[str]:
    """The index terms of ``text``, in order, repeats kept: the chain in the module docstring."""
    return [
        term for word in _WORD_RE.findall(text) for term in _terms_of_word(word, remove_stopwords, stemming)
    ]


def commonest_spellings(text: str) -> dict[str, str]:
    """For each term of ``text``, the spelling ``text`` uses most for it (stopwords have none).

    What a reader is shown instead of a stem ("Beatrice" for ``beatric``). A spelling in
    capitals loses to any other ("Bertram", not the "BERTRAM" of the stage directions);
    ties go to the spelling met first. Counts distinct words, so it costs a fraction of
    analysing the text again.
    """
    best: dict[str, tuple[bool, int, str]] = {}
    for word, count in Counter(_WORD_RE.findall(text)).items():
        rank = not _shouted(word)
        for term in _terms_of_word(word, remove_stopwords=True, stemming=True):
            spelt = best.get(term)
            if spelt is None or (rank, count) > spelt[:2]:
                best[term] = (rank, count, word)
    return {term: word for term, (_, _, word) in best.items()}


def _shouted(word: str) -> bool:
    """Whether ``word`` is in capitals throughout (one letter, like "I" or "O", does not count)."""
    return len(word) > 1 and word.isupper()
