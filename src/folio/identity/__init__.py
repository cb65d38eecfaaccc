"""Identity: shops (tenants), users, memberships and roles, passwords, tokens, API keys.

Key contracts:

- Other contexts import only ``folio.identity.api``.
- Shops and users are global rows; memberships, API keys and refresh tokens are
  tenant-owned (row-level security on PostgreSQL).
- Secrets are never stored: argon2id for passwords, SHA-256 for high-entropy API keys
  and reset tokens. A failed login never says whether the account exists.
"""
