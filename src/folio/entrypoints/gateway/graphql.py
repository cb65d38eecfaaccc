"""The gateway's GraphQL schema: every context's part, composed into one (docs/graphql.md).

Each context contributes its ``graphql`` adapter's ``SCHEMA``; this is the one place
that imports them all, as the gateway's app imports every ``http`` router. Adding a
context's part is one line in ``SCHEMA_PARTS``.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, params

from folio.catalog.graphql import SCHEMA as CATALOG
from folio.graphqlkit import ComposedSchema, GraphQLSettings, SchemaPart, compose_schema, graphql_router
from folio.identity.graphql import SCHEMA as IDENTITY
from folio.live.api import admit_connection
from folio.live.graphql import SCHEMA as LIVE
from folio.orders.graphql import SCHEMA as ORDERS
from folio.search.graphql import SCHEMA as SEARCH
from folio.tasks.graphql import SCHEMA as TASKS

__all__ = ["SCHEMA_PARTS", "gateway_schema", "graphql_routes"]

SCHEMA_PARTS: tuple[SchemaPart, ...] = (IDENTITY, CATALOG, SEARCH, ORDERS, TASKS, LIVE)
"""Every context's part of the schema, in the order their fields are listed."""


def gateway_schema(settings: GraphQLSettings | None = None) -> ComposedSchema:
    """The composed schema with ``settings``' limits (the defaults: for exporting the SDL)."""
    return compose_schema(SCHEMA_PARTS, settings=settings or GraphQLSettings())


def graphql_routes(settings: GraphQLSettings, *, limits: Sequence[params.Depends]) -> APIRouter:
    """``/graphql`` over the composed schema; ``limits`` are the REST API's rate-limit dependencies.

    A subscription socket reads the live dashboard's channels: it is admitted as a live
    stream is (``folio.live.api.admit_connection``: one request of its caller).
    """
    return graphql_router(
        gateway_schema(settings), settings=settings, limits=limits, admit_connection=admit_connection
    )
