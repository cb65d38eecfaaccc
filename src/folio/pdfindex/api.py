"""The PDF index's public surface: Folio's own inverted index over PDF previews (L3-07).

Key contracts: ``extract_pdf`` reads a PDF's title and pages (``PdfExtractionError``
when it cannot); ``InvertedIndex`` adds, replaces and removes documents, answers the
boolean/phrase query language with BM25F and snippets (``QuerySyntaxError`` names the
position; stopwords count inside "phrases", and ``ignored_words`` names the bare ones a
query drops), and saves atomically; ``InvertedIndex.load`` reads a saved one
(``IndexNotFoundError`` when none was saved, ``IndexFormatError`` for a damaged or unknown
file) and ``open_index`` starts an empty one when there is none.
"""

from __future__ import annotations

from folio.pdfindex.extract import PdfExtractionError, extract_pdf
from folio.pdfindex.index import IndexFormatError, IndexNotFoundError, InvertedIndex, open_index
from folio.pdfindex.query import QuerySyntaxError

__all__ = [
    "IndexFormatError",
    "IndexNotFoundError",
    "InvertedIndex",
    "PdfExtractionError",
    "QuerySyntaxError",
    "extract_pdf",
    "open_index",
]
