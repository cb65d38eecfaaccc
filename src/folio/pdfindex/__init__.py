"""Folio's own small full-text index for PDFs (L3-07): extraction, a positional index, BM25F."""
