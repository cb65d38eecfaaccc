"""Text features (L3-10): one analysis chain, term frequencies, TF-IDF, reports."""
