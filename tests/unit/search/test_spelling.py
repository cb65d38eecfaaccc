"""Spelling correction against a vocabulary of generated works: which words change, and into what."""

from __future__ import annotations

import asyncio
import gc
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from folio.search.indexes import work_document
from folio.search.spelling import SpellingCorrector, build_vocabulary
from tests.support.search import generated_work

pytestmark = pytest.mark.unit


def _documents() -> list[dict[str, Any]]:
    """Generated works: four Harry Potters, three times as many Marys and Peters, Hamlet and Hamlyn."""
    works = [
        generated_work("Harry Potter and the Chamber of Secrets", authors=("J. K. Rowling",)),
        generated_work("Harry Potter and the Goblet of Fire", authors=("J. K. Rowling",)),
        generated_work("Harry Potter and the Prisoner of Azkaban", authors=("J. K. Rowling",)),
        generated_work("Harry Potter and the Half-Blood Prince", authors=("J. K. Rowling",)),
        generated_work("Hamlet", authors=("William Shakespeare",)),
        generated_work("Hamlet", authors=("William Shakespeare",)),
        generated_work("Hamlyn Cookbook", authors=("Generated Cook",)),
        generated_work("Hamlyn Cookbook of Soups", authors=("Generated Cook",)),
        generated_work("The Secrets Chamber", authors=("Generated Author",)),
        generated_work("Secrets of the Chamber", authors=("Generated Author",)),
    ]
    works += [generated_work(f"Mary of the Garden, volume {n}") for n in range(12)]
    works += [generated_work(f"Peter Rabbit, volume {n}") for n in range(12)]
    return [work_document(work) for work in works]


@pytest.fixture(scope="module")
def corrector() -> SpellingCorrector:
    """A corrector over the generated works."""
    return SpellingCorrector.from_documents(_documents())


def test_an_unknown_word_becomes_the_nearest_frequent_catalogue_word(corrector: SpellingCorrector) -> None:
    """`hamlt` (in no title) becomes `hamlet`, one edit away, not `hamlyn`, two."""
    assert corrector.correct("hamlt") == "hamlet"


def test_neighbouring_words_choose_between_equally_near_candidates(corrector: SpellingCorrector) -> None:
    """`hary poter` becomes `harry potter` (a pair in titles), not the more frequent `mary peter`."""
    assert corrector.correct("hary poter chamber secrets") == "harry potter chamber secrets"


def test_known_words_and_dsl_terms_are_left_as_typed(corrector: SpellingCorrector) -> None:
    """A query of known words is not corrected; only bare unknown words change, DSL terms stay verbatim."""
    assert corrector.correct("Hamlyn cookbook") is None
    assert corrector.correct("running hamlets") is None  # analysed: `hamlet` is known
    assert corrector.correct('hamlt  author:shakspere -cookbok "hamlt"') == (
        'hamlet  author:shakspere -cookbok "hamlt"'
    )
    assert corrector.correct("hamlt OR cookbok") == "hamlet OR cookbook"


def test_a_word_with_no_candidate_is_left_alone(corrector: SpellingCorrector) -> None:
    """A word nothing in the vocabulary is near gives no correction at all."""
    assert corrector.correct("zzyzx") is None
    assert corrector.is_known("zzyzx") is False


def test_one_off_words_are_known_but_never_offered(corrector: SpellingCorrector) -> None:
    """`goblet` appears once: typed it is known; `goblett` is not corrected to it (seen once only)."""
    assert corrector.is_known("goblet")
    assert corrector.correct("goblett") is None


def _children_running(module: str) -> list[int]:
    """PIDs of this process's children whose command line runs ``python -m module``."""
    found = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
            cmdline = (status.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:  # gone between the listing and the read
            continue
        if int(fields[1]) == os.getpid() and module.encode() in cmdline:
            found.append(int(status.parent.name))
    return found


def _process_exists(pid: int) -> bool:
    """Whether ``pid`` is still in the process table (running, or a zombie nobody reaped)."""
    return Path(f"/proc/{pid}").exists()


async def test_a_cancelled_build_takes_its_child_down_and_leaves_no_pipe_open() -> None:
    """Cancelling a build (a loop shutting down) kills and reaps the child, drains its pipes."""
    # A server that accepts connections and never answers: the child's export hangs.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        build = asyncio.create_task(build_vocabulary(f"http://127.0.0.1:{port}", "key", "works"))
        for _ in range(200):
            children = _children_running("folio.search.spelling")
            if children:
                break
            await asyncio.sleep(0.05)
        assert children, "the build started no child"
        build.cancel()
        with pytest.raises(asyncio.CancelledError):
            await build
    assert not _process_exists(children[0])  # killed and reaped, not left a zombie
    gc.collect()  # an undrained pipe transport would warn here (warnings are errors)
