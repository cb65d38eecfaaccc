"""Command-line plumbing every context's ``cli`` adapter shares: the invocation's state, its platform, its errors.

Contexts mount their own click groups (``<context>/cli.py``); ``folio.entrypoints.cli``
only assembles them into ``folio``. Keep this package to plumbing: no domain logic.
"""
