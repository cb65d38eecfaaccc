"""Spelling correction against a vocabulary of generated works: which words change, and into what."""

from __future__ import annotations

from typing import Any

import pytest

from folio.search.indexes import work_document
from folio.search.spelling import SpellingCorrector
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
