"""``python -m folio``: the same as the ``folio`` command."""

from folio.entrypoints.cli import main

main()
