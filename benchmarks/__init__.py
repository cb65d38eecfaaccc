"""Benchmarks: each measures Folio and its named peer in the same run.

Run with ``make bench`` (all) or ``python -m benchmarks NAME``. Each writes
``.folio/bench/<name>.json`` and prints one line with the ratio to its peer.
Numbers are for this machine only; compare runs from the same machine.
"""
