"""What every context's GraphQL adapter shares, and the ``/graphql`` route that serves them.

A context's ``graphql.py`` exports a ``SchemaPart`` (its root fields and the batch
loaders it offers by name); the gateway composes the parts (``compose_schema``) and
mounts ``graphql_router``. Resolvers take the caller and the request's dataloaders from
``context_of(info)`` and call their context's service functions, the REST API's, so
GraphQL has no rules of its own. Plumbing only: no domain logic here (docs/graphql.md).
"""

from __future__ import annotations

from folio.core.settings.graphql import GraphQLSettings
from folio.graphqlkit.channels import Channels, live_channel, orders_channel
from folio.graphqlkit.context import BatchLoad, GraphQLContext, context_of
from folio.graphqlkit.fields import field, subscription
from folio.graphqlkit.persisted import PersistedQueries, query_hash
from folio.graphqlkit.router import CACHE_HEADER, graphql_router
from folio.graphqlkit.schema import ComposedSchema, SchemaPart, compose_schema

__all__ = [
    "CACHE_HEADER",
    "BatchLoad",
    "Channels",
    "ComposedSchema",
    "GraphQLContext",
    "GraphQLSettings",
    "PersistedQueries",
    "SchemaPart",
    "compose_schema",
    "context_of",
    "field",
    "graphql_router",
    "live_channel",
    "orders_channel",
    "query_hash",
    "subscription",
]
