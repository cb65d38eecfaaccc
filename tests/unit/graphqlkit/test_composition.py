"""Composing the gateway's schema from the contexts' parts."""

from __future__ import annotations

import uuid

import pytest
import strawberry

from folio.entrypoints.gateway.graphql import SCHEMA_PARTS, gateway_schema
from folio.graphqlkit import GraphQLContext, GraphQLSettings, SchemaPart, compose_schema
from tests.unit.graphqlkit.conftest import SHELVES, Book

pytestmark = pytest.mark.unit


def test_every_context_contributes_its_root_fields() -> None:
    """Identity, catalogue, search, orders, tasks and the live metrics, merged into one schema."""
    sdl = gateway_schema().schema.as_str()
    for root_field in ("shop:", "listings(", "works(", "searchListings(", "orders(", "tasks("):
        assert root_field in sdl
    for mutation in ("cancelOrder(", "createTask("):
        assert mutation in sdl
    for subscription in ("orderStatus(", "orderUpdates:", "liveMetrics("):
        assert subscription in sdl
    assert {part.name for part in SCHEMA_PARTS} == {
        "identity",
        "catalog",
        "search",
        "orders",
        "tasks",
        "live",
    }


def test_an_order_line_links_to_the_catalogues_own_types() -> None:
    """The orders' part refers to the catalogue's Listing and Work lazily: one type each in the schema."""
    schema = gateway_schema().schema._schema
    line = schema.get_type("OrderLine")
    assert line is not None
    assert str(line.fields["listing"].type) == "Listing"  # type: ignore[attr-defined]
    assert str(line.fields["work"].type) == "Work"  # type: ignore[attr-defined]
    assert gateway_schema().loaders.keys() >= {"catalog.listing", "catalog.work"}


def test_two_parts_defining_one_root_field_do_not_compose() -> None:
    """A clash is an error at composition, not one part silently shadowing the other."""

    @strawberry.type
    class Clash:
        """Another part's ``shelves``."""

        @strawberry.field
        def shelves(self) -> list[Book]:
            """A clashing field."""
            return []

    with pytest.raises(ValueError, match=r"Query\.shelves"):
        compose_schema([SHELVES, SchemaPart(name="clash", queries=(Clash,))], settings=GraphQLSettings())


def test_two_parts_registering_one_loader_do_not_compose() -> None:
    """Loader names are unique across parts."""

    async def load(_context: GraphQLContext, keys: list[uuid.UUID]) -> list[None]:
        return [None for _ in keys]

    parts = [SchemaPart(name=name, loaders={"shared.thing": load}) for name in ("a", "b")]
    with pytest.raises(ValueError, match=r"shared\.thing"):
        compose_schema([SHELVES, *parts], settings=GraphQLSettings())
