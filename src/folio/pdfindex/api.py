"""The PDF index's public surface: Folio's own inverted index over PDF previews (L3-07).

Key contracts: ``extract_pdf`` reads a PDF's title and pages (``PdfExtractionError``
when it cannot); ``InvertedIndex`` adds, replaces and removes documents, answers the
boolean/phrase query language with BM25F and snippets (``QuerySyntaxError`` names the
position), and saves atomically; ``open_index`` loads a saved one (``IndexFormatError``
for a damaged or unknown file).
"""

from __future__ import annotations

from folio.pdfindex.extract import PdfExtractionError, extract_pdf
from folio.pdfindex.index import IndexFormatError, InvertedIndex, open_index
from folio.pdfindex.query import QuerySyntaxError

__all__ = [
    "IndexFormatError",
    "InvertedIndex",
    "PdfExtractionError",
    "QuerySyntaxError",
    "extract_pdf",
    "open_index",
]
