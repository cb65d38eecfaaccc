"""Service rules that need no server: paging window, facet names, synonym input, lite mode."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from folio.core.settings import Settings
from folio.search.api import MAX_RESULT_WINDOW, DeepPagingError, SearchUnavailableError, SynonymWrite
from folio.search.service import _check_window, _facet_fields, check_search_enabled

pytestmark = pytest.mark.unit


def test_window_allows_up_to_the_cap_and_names_after_beyond() -> None:
    """Pages up to the cap (page x per_page) are fine; one page further is a 400 naming `after`."""
    _check_window(MAX_RESULT_WINDOW // 20, 20)
    with pytest.raises(DeepPagingError) as caught:
        _check_window(MAX_RESULT_WINDOW // 20 + 1, 20)
    assert caught.value.status == 400
    assert "after=" in (caught.value.detail or "")


def test_facet_names_map_to_engine_fields() -> None:
    """`subject` is the engine's `subjects`; unknown names are a 422 naming the known ones."""
    assert _facet_fields(["subject", "price_band"]) == ["subjects", "price_band"]
    assert _facet_fields([]) == []
    with pytest.raises(Exception, match="unknown facet 'colour'"):
        _facet_fields(["colour"])


def test_synonym_sets_need_two_terms_unless_one_way() -> None:
    """A multi-way set needs two distinct terms; with a root one is enough; blanks are refused."""
    assert SynonymWrite(synonyms=[" yarn ", "wool", "yarn"]).synonyms == ["yarn", "wool"]
    assert SynonymWrite(synonyms=["penguin classics"], root="classic").root == "classic"
    with pytest.raises(ValidationError):
        SynonymWrite(synonyms=["yarn", "yarn"])
    with pytest.raises(ValidationError):
        SynonymWrite(synonyms=["yarn", " "])


def test_lite_mode_refuses_search(settings: Settings) -> None:
    """With SQLite (lite mode) search is unavailable, saying how to get it."""
    lite = settings.model_copy(
        update={"database": settings.database.model_copy(update={"backend": "sqlite", "url": None})}
    )
    with pytest.raises(SearchUnavailableError) as caught:
        check_search_enabled(lite)
    assert "lite mode" in (caught.value.detail or "")
    postgres = settings.model_copy(
        update={"database": settings.database.model_copy(update={"backend": "postgres", "url": None})}
    )
    check_search_enabled(postgres)
