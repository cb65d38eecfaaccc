"""Text extraction from PDF files with pypdf, one string per page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class PdfExtractionError(Exception):
    """A file could not be read as a PDF."""


@dataclass(frozen=True)
class ExtractedPdf:
    """The text of one PDF: its title and the text of each page, in order."""

    path: Path
    title: str
    pages: tuple[str, ...]

    @property
    def body(self) -> str:
        """All pages joined by blank lines (a form feed marks the page break)."""
        return "\n\f\n".join(self.pages)


def extract_pdf(path: Path) -> ExtractedPdf:
    """Read ``path`` and return its title and page texts.

    The title is the document's metadata title when it has a non-blank one, else the
    first non-blank line of text, else the file name without its suffix.

    Raises:
        PdfExtractionError: the file is missing or is not a readable PDF.
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path)
        pages = tuple((page.extract_text() or "").strip() for page in reader.pages)
        metadata_title = reader.metadata.title if reader.metadata is not None else None
    except (OSError, PyPdfError, ValueError) as exc:
        raise PdfExtractionError(f"{path}: {exc}") from exc
    title = (metadata_title or "").strip() or _first_line(pages) or path.stem
    return ExtractedPdf(path=path, title=title, pages=pages)


def _first_line(pages: tuple[str, ...]) -> str:
    for page in pages:
        for line in page.splitlines():
            if line.strip():
                return line.strip()
    return ""
