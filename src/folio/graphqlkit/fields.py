"""``field`` and ``subscription``: strawberry's decorators, typed for mypy.

Folio's resolvers return the DTOs their services return (a ``ListingRead``), and the
GraphQL type that shows it is named with ``graphql_type`` (``Listing``): GraphQL reads
the DTO's attributes by name, so no resolver copies one object into another.
strawberry's keyword-only decorator form is typed ``Any``; these say what it returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.types.field import StrawberryField

__all__ = ["field", "subscription"]

Resolver = Callable[..., Any]


def field(
    *, graphql_type: object = None, description: str | None = None
) -> Callable[[Resolver], StrawberryField]:
    """A resolver field whose GraphQL type is ``graphql_type`` (else the resolver's annotation)."""
    decorate: Callable[[Resolver], StrawberryField] = strawberry.field(
        graphql_type=graphql_type, description=description
    )
    return decorate


def subscription(
    *, graphql_type: object = None, description: str | None = None
) -> Callable[[Resolver], StrawberryField]:
    """A subscription field (an async generator resolver) yielding ``graphql_type``."""
    decorate: Callable[[Resolver], StrawberryField] = strawberry.subscription(
        graphql_type=graphql_type, description=description
    )
    return decorate
