"""Numbered page links, as every paged web page shows them (the board, the search page)."""

from __future__ import annotations

__all__ = ["PAGE_WINDOW", "page_links"]

PAGE_WINDOW = 2
"""Page links shown either side of the current page."""


def page_links(page: int, pages: int) -> list[int | None]:
    """Page numbers to link: the first, the last and a window around ``page``; None marks a gap."""
    if pages <= 1:
        return []
    shown = sorted({1, pages, *range(max(1, page - PAGE_WINDOW), min(pages, page + PAGE_WINDOW) + 1)})
    links: list[int | None] = []
    previous = 0
    for number in shown:
        if previous and number - previous > 1:
            links.append(None)
        links.append(number)
        previous = number
    return links
