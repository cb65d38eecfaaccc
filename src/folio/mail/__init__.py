"""Mail: a transactional outbox; in dev the outbox is where developers read mail.

Key contracts: ``queue_mail`` writes in the caller's transaction, so a mail exists
if and only if the change that caused it committed; delivery happens after.
"""
