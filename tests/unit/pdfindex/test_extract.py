from __future__ import annotations

from pathlib import Path

import pytest

from folio.pdfindex.extract import PdfExtractionError, extract_pdf
from tests.unit.pdfindex.conftest import write_pdf


def test_extract_reads_text_and_metadata_title(hamlet_pdfs: dict[str, Path]) -> None:
    """The metadata title wins, and the page text comes back line by line."""
    pdf = extract_pdf(hamlet_pdfs["soliloquy.pdf"])
    assert pdf.title == "To Be or Not"
    assert len(pdf.pages) == 1
    assert "To be, or not to be, that is the question:" in pdf.pages[0]
    assert "outrageous fortune" in pdf.body


def test_extract_falls_back_to_first_line_for_title(hamlet_pdfs: dict[str, Path]) -> None:
    """Without a metadata title the first non-blank line is the title."""
    assert extract_pdf(hamlet_pdfs["ghost.pdf"]).title == "The Ghost on the Platform"


def test_extract_keeps_pages_apart(tmp_path: Path) -> None:
    """Each page's text is its own entry, in order."""
    path = write_pdf(tmp_path / "two.pdf", title="Two", pages=[["first page"], ["second page"]])
    assert extract_pdf(path).pages == ("first page", "second page")


def test_extract_rejects_a_non_pdf(tmp_path: Path) -> None:
    """A file that is not a PDF raises PdfExtractionError naming it."""
    bogus = tmp_path / "bogus.pdf"
    bogus.write_text("not a pdf")
    with pytest.raises(PdfExtractionError, match=r"bogus\.pdf"):
        extract_pdf(bogus)
