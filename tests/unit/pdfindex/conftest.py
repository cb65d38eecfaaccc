"""Generated fixtures: small PDFs of public-domain Hamlet lines, written afresh in each test run."""

from __future__ import annotations

from pathlib import Path

import pytest

# GENERATED FIXTURES: short public-domain passages from Hamlet, typed here and written to PDF by fpdf2.
PASSAGES: dict[str, tuple[str | None, list[str]]] = {
    "soliloquy.pdf": (
        "To Be or Not",
        [
            "To be, or not to be, that is the question:",
            "Whether 'tis nobler in the mind to suffer",
            "The slings and arrows of outrageous fortune,",
        ],
    ),
    "ghost.pdf": (
        None,  # no metadata title: the first line is the title
        [
            "The Ghost on the Platform",
            "Something is rotten in the state of Denmark.",
            "I am thy father's spirit, doomed for a certain term to walk the night.",
        ],
    ),
    "yorick.pdf": (
        "Alas Poor Yorick",
        [
            "Alas, poor Yorick! I knew him, Horatio:",
            "a fellow of infinite jest, of most excellent fancy.",
        ],
    ),
}


def write_pdf(path: Path, *, title: str | None, pages: list[list[str]]) -> Path:
    """Write a PDF with one page per list of lines, and ``title`` in its metadata when given."""
    from fpdf import FPDF

    pdf = FPDF()
    if title is not None:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=12)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


@pytest.fixture
def hamlet_pdfs(tmp_path: Path) -> dict[str, Path]:
    """The generated Hamlet PDFs, by file name."""
    folder = tmp_path / "pdfs"
    folder.mkdir()
    return {
        name: write_pdf(folder / name, title=title, pages=[lines])
        for name, (title, lines) in PASSAGES.items()
    }
