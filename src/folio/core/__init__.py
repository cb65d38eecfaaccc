"""Folio's shared kernel: settings, logging, errors and database plumbing.

Key contract: ``folio.core`` imports no bounded context and no entry point
(enforced by import-linter); contexts build on it, never the other way round.
"""
