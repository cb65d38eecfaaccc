"""Folio's daily data flow on Prefect 3, with Great Expectations (GX Core) checks on each stage's output.

This package runs in its own environment (``flows/.venv``): Prefect pins an older
FastAPI than Folio's. It never imports ``folio``; its tasks run Folio's command line
(``$FOLIO_PYTHON -m folio ...``) as subprocesses, so it works against any Folio
installation the environment points at.
"""

import warnings

# GX Core 1.x imports the stdlib's deprecated sre_constants/sre_parse modules; only
# those two warnings are silenced, and only in this environment.
warnings.filterwarnings(
    "ignore", message=r"module 'sre_(constants|parse)' is deprecated", category=DeprecationWarning
)
