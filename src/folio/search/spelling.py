"""Spelling correction for search queries, against the catalogue's own vocabulary.

``hamlt`` finds nothing good on its own: the engine's typo tolerance reaches *Hamlyn*
as readily as *Hamlet*, and Folio's highlights (which match analysed words) mark
neither. So before searching, the service asks ``SpellingCorrector.correct`` whether
the query holds a word the catalogue does not know and, if it does, what the likeliest
intended query is:

- **Known words** are those whose analysed terms (Folio's chain: stems, no stopwords)
  all occur in some work's title, authors, publisher or description, which is exactly
  what the engine can match without typos. A query whose every word is known is never
  corrected; neither is a DSL term (``author:tolkein``, ``-used``, ``"a phrase"``): only
  bare words are rewritten, everything else is kept verbatim.
- **Candidates** for an unknown word come from symspellpy's SymSpell over the words
  of titles and authors (normalised, unstemmed, stopwords included; words seen at least
  twice, so one-off typos in the catalogue are not offered back): within one edit for
  words of up to four letters, two edits beyond.
- **Choosing** among them uses the neighbours: each candidate scores
  ``log(1 + count) - DISTANCE_PENALTY x edits`` and each pair of neighbouring words
  ``BIGRAM_WEIGHT x log(1 + count of the pair)`` in titles and authors (stopwords
  skipped, so *chamber secrets* counts *Chamber of Secrets*), and the best sequence wins
  (Viterbi). That is what turns ``hary poter`` into *harry potter* rather than the more
  frequent *mary peter*.

The vocabulary is built from the live works index (``build_vocabulary``, in a child
process so the serving process neither pays the build's transient memory nor its CPU
time), once per process and works collection (``vocabulary_for``): a reindex swaps
the alias to a new collection, and the next correction rebuilds. Works the sync adds in between are known
after the next reindex or restart. Size on the full catalogue (271,747 works):
see docs/search-relevance.md.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import math
import pickle
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import structlog
from symspellpy import SymSpell, Verbosity

from folio.search.engine import SearchEngine, SearchEngineError
from folio.textanalysis.api import analyze

__all__ = [
    "BIGRAM_WEIGHT",
    "DISTANCE_PENALTY",
    "SpellingCorrector",
    "build_vocabulary",
    "vocabulary_for",
]

log = structlog.get_logger(__name__)

DISTANCE_PENALTY = 5.0
"""Score lost per edit: one more edit must buy a word about 150 times more frequent (or a pair)."""

BIGRAM_WEIGHT = 2.0
"""Score per log of how often two neighbouring words stand together in titles and authors."""

MIN_WORD_COUNT = 2
"""Words seen fewer times are known (not corrected) but never offered as a correction."""

_MAX_CANDIDATES = 8
_SHORT_WORD = 4
"""Words of up to this many letters get one edit at most (two would make them anything)."""
_MIN_LENGTH = 3
_UNKNOWN_DISTANCE = 3
"""Shorter words are left alone: too many words are one edit from them."""

_BARE_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_OPERATORS = frozenset({"AND", "OR", "NOT"})
_EXPORT_FIELDS = "title,authors,publisher,title_stem,authors_stem,publisher_stem,description_stem"


@dataclass(frozen=True)
class _Candidate:
    term: str
    distance: int
    count: int


class SpellingCorrector:
    """A query speller over one vocabulary; build with ``from_documents``. Read-only once built."""

    def __init__(self, symspell: SymSpell, known_terms: frozenset[str], bigrams: dict[str, int]) -> None:
        self._symspell = symspell
        self._known = known_terms
        self._bigrams = bigrams

    @classmethod
    def from_documents(cls, documents: Iterable[dict[str, object]]) -> SpellingCorrector:
        """A corrector over works documents (``title``, ``authors``, ``publisher`` and ``*_stem`` fields)."""
        texts: Counter[str] = Counter()
        known: set[str] = set()
        for document in documents:
            for field in ("title_stem", "authors_stem", "publisher_stem", "description_stem"):
                known.update(str(document.get(field) or "").split())
            authors = document.get("authors")
            texts[str(document.get("title") or "")] += 1
            texts.update(str(author) for author in (authors if isinstance(authors, list) else []))
        # Authors and many titles repeat: each distinct text is analysed once.
        words: Counter[str] = Counter()
        pairs: Counter[str] = Counter()
        for text, times in texts.items():
            # Stopwords are words people misspell too (`wwen`): offered, though the search drops them.
            for term in analyze(text, stemming=False, remove_stopwords=False):
                words[term] += times
            terms = analyze(text, stemming=False)
            for first, second in itertools.pairwise(terms):
                pairs[f"{first} {second}"] += times
        symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=5)
        for word, count in words.items():
            if count >= MIN_WORD_COUNT and len(word) >= _MIN_LENGTH and word.isalpha():
                symspell.create_dictionary_entry(word, count)
        bigrams = {pair: count for pair, count in pairs.items() if count >= MIN_WORD_COUNT}
        return cls(symspell, frozenset(known), bigrams)

    @property
    def size(self) -> tuple[int, int, int]:
        """(dictionary words, known terms, word pairs): what the corrector holds."""
        return len(self._symspell.words), len(self._known), len(self._bigrams)

    def is_known(self, word: str) -> bool:
        """Whether every analysed term of ``word`` occurs in the catalogue (stopwords always do)."""
        return all(term in self._known for term in analyze(word))

    def correct(self, query: str) -> str | None:
        """The likeliest intended query when ``query`` has an unknown bare word, else None.

        Whitespace, stopwords and every token that is not a bare word (DSL fields,
        phrases, exclusions, operators) are kept as typed; None too when no candidate
        exists. Once an unknown word makes a query a candidate, a known word whose exact
        spelling is rare in the catalogue (``hary``: known only because its stem *hari*
        is a name) may be respelt too, when the scores say so.
        """
        tokens = re.split(r"(\s+)", query)
        slots: list[int] = []
        joined: list[bool] = []
        adjacent = False
        for i, token in enumerate(tokens):
            if not token.strip():
                continue
            terms = analyze(token, stemming=False) if self._is_bare_word(token) else None
            if terms == []:
                continue  # a stopword: kept as typed, and its neighbours still count as a pair
            if terms is None or len(terms) != 1 or not terms[0].isalpha():
                adjacent = False
                continue
            slots.append(i)
            joined.append(adjacent)
            adjacent = True
        if not any(not self.is_known(tokens[i]) for i in slots):
            return None
        lattice = [self._candidates(tokens[i]) for i in slots]
        for i, term in zip(slots, self._best_sequence(lattice, joined), strict=True):
            if term != lattice[slots.index(i)][0].term:
                tokens[i] = term
        corrected = "".join(tokens)
        return corrected if corrected != query else None

    @staticmethod
    def _is_bare_word(token: str) -> bool:
        return bool(_BARE_WORD.fullmatch(token)) and token not in _OPERATORS

    def _candidates(self, word: str) -> list[_Candidate]:
        """The word as typed first (normalised), then what it may be corrected to."""
        (normal,) = analyze(word, stemming=False)
        known = self.is_known(word)
        # An unknown word as typed scores as if it were further than any candidate.
        typed = _Candidate(
            normal, 0 if known else _UNKNOWN_DISTANCE, int(self._symspell.words.get(normal, 0))
        )
        if len(normal) < _MIN_LENGTH or typed.count >= MIN_WORD_COUNT:
            return [typed]
        reach = 1 if len(normal) <= _SHORT_WORD else 2
        found = self._symspell.lookup(normal, Verbosity.ALL, max_edit_distance=reach)
        found.sort(key=lambda s: (s.distance, -s.count))
        return [typed, *(_Candidate(s.term, s.distance, s.count) for s in found[:_MAX_CANDIDATES])]

    def _best_sequence(self, lattice: list[list[_Candidate]], joined: list[bool]) -> list[str]:
        """Viterbi over the candidates: unigram and edit scores, plus pair scores between neighbours."""

        def own(candidate: _Candidate) -> float:
            return math.log1p(candidate.count) - DISTANCE_PENALTY * candidate.distance

        scores = [own(c) for c in lattice[0]]
        back: list[list[int]] = []
        for k in range(1, len(lattice)):
            step_scores: list[float] = []
            step_back: list[int] = []
            for candidate in lattice[k]:
                options = [
                    scores[p]
                    + (
                        BIGRAM_WEIGHT * math.log1p(self._bigrams.get(f"{prev.term} {candidate.term}", 0))
                        if joined[k]
                        else 0.0
                    )
                    for p, prev in enumerate(lattice[k - 1])
                ]
                choice = max(range(len(options)), key=options.__getitem__)
                step_scores.append(options[choice] + own(candidate))
                step_back.append(choice)
            scores = step_scores
            back.append(step_back)
        index = max(range(len(scores)), key=scores.__getitem__)
        chosen = [index]
        for step_back in reversed(back):
            index = step_back[index]
            chosen.append(index)
        chosen.reverse()
        return [lattice[k][i].term for k, i in enumerate(chosen)]


async def _export(url: str, admin_key: str, collection: str) -> list[dict[str, object]]:
    async with SearchEngine(url, admin_key) as engine:
        return [doc async for doc in engine.export_documents(collection, include_fields=_EXPORT_FIELDS)]


def _build_here(url: str, admin_key: str, collection: str) -> tuple[SpellingCorrector, int]:
    """Export ``collection`` and build its corrector in this process (the child's work)."""
    documents = asyncio.run(_export(url, admin_key, collection))
    return SpellingCorrector.from_documents(documents), len(documents)


async def build_vocabulary(url: str, admin_key: str, collection: str) -> SpellingCorrector:
    """A corrector over every document of ``collection``, built in a child process.

    The build holds every work's words at once and takes seconds of CPU on the full
    catalogue: in a child, that memory is returned to the system when it exits (Python
    keeps what it once allocated), and the serving process keeps answering meanwhile.
    Only the finished corrector comes back (pickled; the child is ours, started with
    ``python -m folio.search.spelling``, the admin key on its stdin).

    Raises:
        SearchEngineError: the child could not build it (its stderr names why).
    """
    started = time.perf_counter()
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "folio.search.spelling",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    request = json.dumps({"url": url, "admin_key": admin_key, "collection": collection}).encode()
    try:
        out, err = await child.communicate(request)
    except BaseException:
        # Cancelled (the process or the test's loop shutting down mid-build): the child
        # must not outlive us, and its pipes must be drained here, while the loop still
        # runs, or they are left open for the garbage collector to complain about.
        await _stop(child)
        raise
    if child.returncode != 0:
        message = err.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        raise SearchEngineError(f"building the spelling vocabulary of {collection} failed: {message[0]}")
    corrector, documents = pickle.loads(out)  # noqa: S301 - our own child's output, not outside data
    words, known, pairs = corrector.size
    log.info(
        "search.vocabulary_built",
        collection=collection,
        documents=documents,
        words=words,
        known_terms=known,
        pairs=pairs,
        seconds=round(time.perf_counter() - started, 1),
    )
    return cast("SpellingCorrector", corrector)


async def _stop(child: asyncio.subprocess.Process) -> None:
    """Kill ``child`` if it still runs, then read its pipes to the end and reap it."""
    if child.returncode is None:
        child.kill()
    await child.communicate()


_RECHECK_S = 60.0
"""How long a corrector is used before asking the server again where the alias points."""


@dataclass
class _Entry:
    collection: str | None = None
    corrector: SpellingCorrector | None = None
    checked_at: float = -math.inf
    building: asyncio.Task[SpellingCorrector] | None = None


_vocabularies: dict[tuple[str, str], _Entry] = {}
"""(server url, works alias) -> its vocabulary: one per process."""


async def vocabulary_for(
    engine: SearchEngine, alias: str, *, fresh: bool = False
) -> SpellingCorrector | None:
    """The process's corrector for the works ``alias``: built on first use, rebuilt after a reindex.

    Building reads every work and takes seconds on the full catalogue, so it runs in
    the background: until it is done this answers the previous vocabulary, or None
    (search as typed). Where the alias points is asked at most once a minute, so a
    search pays no extra round trip. ``fresh`` builds from the collection as it is now
    and waits for it (``folio search eval``, tests that just indexed works). None also
    when the alias does not exist (no catalogue indexed yet: nothing to correct against;
    one indexed meanwhile is noticed within the minute).
    """
    entry = _vocabularies.setdefault((engine.url, alias), _Entry())
    now = time.monotonic()
    if not fresh and now - entry.checked_at < _RECHECK_S:
        # Asked within the minute: the corrector as it stands, or None while the first
        # build runs (asking the server again would cost every search a round trip).
        return entry.corrector
    entry.checked_at = now
    collection = await engine.get_alias(alias)
    if collection is None:
        return None
    if fresh:
        corrector = await build_vocabulary(engine.url, engine.admin_key, collection)
        entry.collection, entry.corrector = collection, corrector
        return corrector
    if entry.collection != collection or entry.corrector is None:
        task = entry.building
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            task = asyncio.create_task(build_vocabulary(engine.url, engine.admin_key, collection))
            task.add_done_callback(functools.partial(_built, entry, collection))
            entry.building = task
    return entry.corrector


def _built(entry: _Entry, collection: str, task: asyncio.Task[SpellingCorrector]) -> None:
    """Install a finished build; a failed one is logged and retried on a later search."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.warning("search.vocabulary_failed", collection=collection, error=str(error))
        entry.checked_at = -math.inf
        return
    entry.collection, entry.corrector = collection, task.result()


if __name__ == "__main__":
    # The child of ``build_vocabulary``: a JSON request on stdin, the pickled result on stdout.
    # Imported by its own name so the pickle names folio.search.spelling, not __main__.
    from folio.search.spelling import _build_here as build

    _request = json.loads(sys.stdin.read())
    sys.stdout.buffer.write(
        pickle.dumps(build(_request["url"], _request["admin_key"], _request["collection"]))
    )
