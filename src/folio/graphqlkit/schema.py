"""One GraphQL schema composed from the parts each context contributes.

Each context's ``graphql`` adapter exports a ``SchemaPart``: its root fields (query,
mutation, subscription types), its object types, and the batch loaders it offers
under names (``"catalog.listing"``), through which other parts reach its objects. The
gateway hands every part to ``compose_schema``, which merges the root types with
strawberry's ``merge_types`` into one ``Query``, ``Mutation`` and ``Subscription``:
one schema in one process, *not* federation (no subgraphs, no router, no entity
resolution over the network). A root field or loader name two parts both define is
an error at composition, so parts cannot silently shadow each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.base import get_object_definition

from folio.core.settings.graphql import GraphQLSettings
from folio.graphqlkit.context import BatchLoad
from folio.graphqlkit.limits import limit_extensions
from folio.graphqlkit.problems import shape_error

__all__ = ["ComposedSchema", "FolioSchema", "SchemaPart", "compose_schema"]


@dataclass(frozen=True)
class SchemaPart:
    """What one context contributes to the schema (see the module docstring)."""

    name: str
    queries: tuple[type, ...] = ()
    mutations: tuple[type, ...] = ()
    subscriptions: tuple[type, ...] = ()
    loaders: Mapping[str, BatchLoad] = field(default_factory=dict)


class FolioSchema(strawberry.Schema):
    """A strawberry schema whose errors carry Folio's problem in their ``extensions``.

    ``process_errors`` runs for every error of every operation (HTTP and WebSocket,
    parse, validation and resolver errors alike) before it is sent, so both transports
    answer in the problem shape.
    """

    def process_errors(
        self,
        errors: list[GraphQLError],
        execution_context: ExecutionContext | None = None,  # noqa: ARG002 - strawberry's signature
    ) -> None:
        """Shape each error as a problem; unexpected ones are logged once, by ``shape_error``."""
        for error in errors:
            shape_error(error)


@dataclass(frozen=True)
class ComposedSchema:
    """The gateway's schema and the loaders its parts registered."""

    schema: FolioSchema
    loaders: Mapping[str, BatchLoad]


def _merged(name: str, roots: Iterable[type]) -> Any:
    found = tuple(roots)
    seen: dict[str, str] = {}
    for root in found:
        for each in get_object_definition(root, strict=True).fields:
            if each.name in seen:
                raise ValueError(
                    f"{name}.{each.name} is defined by both {seen[each.name]} and {root.__name__}"
                )
            seen[each.name] = root.__name__
    # merge_types only warns when two roots share a field; checked above, so it cannot happen.
    return merge_types(name, found) if found else None


def compose_schema(parts: Iterable[SchemaPart], *, settings: GraphQLSettings) -> ComposedSchema:
    """Merge ``parts`` into one schema with ``settings``' limits.

    Raises ``ValueError`` when two parts define the same root field or loader name.
    """
    parts = tuple(parts)
    loaders: dict[str, BatchLoad] = {}
    for part in parts:
        for name, load in part.loaders.items():
            if name in loaders:
                raise ValueError(f"two schema parts register the loader {name!r}")
            loaders[name] = load
    schema = FolioSchema(
        query=_merged("Query", (t for part in parts for t in part.queries)),
        mutation=_merged("Mutation", (t for part in parts for t in part.mutations)),
        subscription=_merged("Subscription", (t for part in parts for t in part.subscriptions)),
        extensions=limit_extensions(settings),
    )
    return ComposedSchema(schema=schema, loaders=loaders)
