"""Public data sets: a committed manifest (``sources.toml``) and a verifying fetcher."""
