"""Numbered page links, as the board and the search page show them."""

from __future__ import annotations

import pytest

from folio.webkit.paging import page_links

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("page", "pages", "expected"),
    [
        (1, 1, []),
        (1, 3, [1, 2, 3]),
        (1, 10, [1, 2, 3, None, 10]),
        (5, 10, [1, None, 3, 4, 5, 6, 7, None, 10]),
        (10, 10, [1, None, 8, 9, 10]),
    ],
)
def test_page_links(page: int, pages: int, expected: list[int | None]) -> None:
    """Page links show the first, the last and two either side of the current one, with gaps marked."""
    assert page_links(page, pages) == expected
