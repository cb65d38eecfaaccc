"""Persisted queries: automatic (APQ, by sha256 in Redis) and the allow-list mode.

The APQ protocol (Apollo's): a client sends only ``extensions.persistedQuery.sha256Hash``;
when the server knows the hash it runs the stored query, else it answers
``PersistedQueryNotFound`` and the client sends the hash with the query text, which the
server checks against the hash and stores for ``graphql.persisted_ttl_s``. Queries stay
small on the wire and a CDN can key on the hash.

In allow-list mode (``graphql.persisted_only``) only queries the operator registered
(``register``, kept without expiry) run; a client can neither send free text nor
register a new hash.

Lite mode (no Redis) keeps the queries in this process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis

from folio.core.errors import InvalidParam, ValidationFailedError
from folio.graphqlkit.problems import PersistedQueryNotFoundError, PersistedQueryRequiredError

__all__ = ["PersistedQueries", "query_hash"]


_SHA256_HEX_DIGITS = 64


def query_hash(query: str) -> str:
    """The sha256 hex digest of ``query``'s UTF-8 text: its APQ hash."""
    return hashlib.sha256(query.encode()).hexdigest()


def _sent_hash(extensions: Mapping[str, Any] | None) -> str | None:
    persisted = (extensions or {}).get("persistedQuery")
    if not isinstance(persisted, Mapping):
        return None
    sent = persisted.get("sha256Hash")
    if not isinstance(sent, str) or len(sent) != _SHA256_HEX_DIGITS:
        raise ValidationFailedError(
            "persistedQuery.sha256Hash must be a sha256 hex digest",
            errors=[InvalidParam(name="body.extensions.persistedQuery.sha256Hash", reason="64 hex digits")],
        )
    return sent.lower()


class PersistedQueries:
    """The persisted queries of one deployment, in Redis under ``<namespace>:graphql:apq:<hash>``."""

    def __init__(
        self, redis: Redis | None, *, ttl_s: int, persisted_only: bool, namespace: str = "folio"
    ) -> None:
        """``redis`` None: lite mode, this process's memory."""
        self._redis = redis
        self._memory: dict[str, str] = {}
        self._ttl_s = ttl_s
        self.persisted_only = persisted_only
        self._prefix = f"{namespace}:graphql:apq:"

    async def resolve(self, *, query: str | None, extensions: Mapping[str, Any] | None) -> str:
        """The query text to run for a request that sent ``query`` and ``extensions``.

        Raises:
            PersistedQueryNotFoundError: only a hash was sent and it is unknown (send the text).
            PersistedQueryRequiredError: allow-list mode and the query is not registered.
            ValidationFailedError: no query at all, or a text whose hash is not the one sent.
        """
        sent = _sent_hash(extensions)
        if sent is None:
            if query is None:
                raise ValidationFailedError("send a query, or the hash of a persisted one")
            if self.persisted_only:
                raise PersistedQueryRequiredError("only registered (persisted) queries run here; send a hash")
            return query
        if query is not None and query_hash(query) != sent:
            raise ValidationFailedError(
                "the query's sha256 is not the hash sent",
                errors=[
                    InvalidParam(name="body.extensions.persistedQuery.sha256Hash", reason="not the query's")
                ],
            )
        stored = await self._get(sent)
        if stored is not None:
            return stored
        if self.persisted_only:
            raise PersistedQueryRequiredError(f"no registered query has the hash {sent}")
        if query is None:
            raise PersistedQueryNotFoundError
        await self._set(sent, query, ttl_s=self._ttl_s)
        return query

    async def register(self, query: str) -> str:
        """Store ``query`` for good (the allow-list); returns its hash."""
        digest = query_hash(query)
        await self._set(digest, query, ttl_s=None)
        return digest

    async def _get(self, digest: str) -> str | None:
        if self._redis is None:
            return self._memory.get(digest)
        stored = await self._redis.get(self._prefix + digest)
        return stored.decode() if isinstance(stored, bytes) else stored

    async def _set(self, digest: str, query: str, *, ttl_s: int | None) -> None:
        if self._redis is None:
            self._memory[digest] = query
            return
        await self._redis.set(self._prefix + digest, query, ex=ttl_s)
