"""Preview PDFs: Latin-1 folding, and a real PDF with the title on its first page."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from folio.catalog.previews import PREVIEW_CHARS, fold_to_latin1, render_preview

pytestmark = pytest.mark.unit


def test_fold_to_latin1() -> None:
    """Typographic punctuation folds to ASCII, accents outside Latin-1 drop, the rest becomes ``?``."""
    assert fold_to_latin1("\u201cWell\u201d \u2014 it\u2019s na\u00efve") == '"Well" -- it\'s na\u00efve'
    assert fold_to_latin1("\u0141\u00f3d\u017a") == "?\u00f3dz"
    assert fold_to_latin1("\u4e2d") == "?"


def test_render_preview_is_a_short_pdf_with_the_title() -> None:
    """The PDF opens, starts with the title, holds about three pages, and is deterministic."""
    text = "\n\n".join(
        f"Paragraph {i}. " + "It is a truth universally acknowledged. " * 8 for i in range(200)
    )
    data = render_preview(title="Pride and Prejudice", author="Jane Austen", text=text)
    reader = PdfReader(io.BytesIO(data))
    assert 2 <= len(reader.pages) <= 5
    first = reader.pages[0].extract_text()
    assert first.lstrip().startswith("Pride and Prejudice")
    assert "Paragraph 0." in first
    assert len(text) > PREVIEW_CHARS
    assert "Paragraph 199." not in "".join(page.extract_text() for page in reader.pages)
    assert render_preview(title="Pride and Prejudice", author="Jane Austen", text=text) == data
