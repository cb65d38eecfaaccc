"""Audit trail: every state change (actor, shop, action, before, after, correlation id).

Key contracts: ``record_event`` writes in the caller's transaction (the event commits
with the change or not at all); events are append-only and tenant-owned.
"""
