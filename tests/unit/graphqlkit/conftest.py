"""A toy schema part for the GraphQL plumbing's unit tests: shelves of books, no services."""

from __future__ import annotations

import strawberry

from folio.core.errors import NotFoundError
from folio.graphqlkit import SchemaPart


@strawberry.type
class Book:
    """A book on a shelf."""

    title: str


@strawberry.type
class Shelf:
    """A shelf of ``size`` books."""

    size: int

    @strawberry.field
    def books(self, limit: int = 3) -> list[Book]:
        """The first ``limit`` books."""
        return [Book(title=f"book {index}") for index in range(min(limit, self.size))]

    @strawberry.field
    def shelves(self, limit: int = 2) -> list[Shelf]:
        """Shelves inside this one (for nesting)."""
        return [Shelf(size=self.size) for _ in range(limit)]


@strawberry.type
class ShelfQuery:
    """The toy part's root fields."""

    @strawberry.field
    def shelves(self, limit: int = 2) -> list[Shelf]:
        """``limit`` shelves of three books."""
        return [Shelf(size=3) for _ in range(limit)]

    @strawberry.field
    def missing(self) -> Book:
        """Always a Folio not-found error."""
        raise NotFoundError("no such book", entity="book")

    @strawberry.field
    def broken(self) -> Book:
        """Always an unexpected error."""
        raise RuntimeError("secret internals")


SHELVES = SchemaPart(name="shelves", queries=(ShelfQuery,))
"""The toy part."""
