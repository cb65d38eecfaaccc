"""The revisions, one module each, named `<number>_<slug>.py`."""
