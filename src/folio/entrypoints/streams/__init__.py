"""The event pipeline's processes: ``python -m folio.entrypoints.streams relay|transform|sink|lake``."""
