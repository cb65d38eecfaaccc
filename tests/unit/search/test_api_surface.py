"""The search context's public surface is what we mean to export."""

from __future__ import annotations

import pytest

from folio.search import api

pytestmark = pytest.mark.unit


def test_exported_names_exist_and_are_sorted() -> None:
    """Every name in __all__ exists; the list is kept sorted (a deliberate, reviewable surface)."""
    assert all(hasattr(api, name) for name in api.__all__)
    assert api.__all__ == sorted(
        api.__all__, key=lambda name: (not name.isupper(), not name[0].isupper(), name)
    )


def test_search_works_is_exported_for_evaluation() -> None:
    """`folio search eval` relies on search_works and Tuning from the api."""
    assert {"search_works", "Tuning", "SearchResults", "open_search"} <= set(api.__all__)
