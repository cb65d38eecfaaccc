"""Query depth, size and cost limits, and the problem shape of every GraphQL error."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from folio.graphqlkit import GraphQLSettings, compose_schema
from folio.graphqlkit.limits import query_cost
from tests.unit.graphqlkit.conftest import SHELVES

pytestmark = pytest.mark.unit


async def run(query: str, **limits: Any) -> dict[str, Any]:
    """``query`` on the toy schema with ``limits`` (the defaults otherwise); the formatted result."""
    composed = compose_schema([SHELVES], settings=GraphQLSettings(**limits))
    result = await composed.schema.execute(query)
    return {"data": result.data, "errors": [error.formatted for error in result.errors or []]}


def codes(result: dict[str, Any]) -> list[str]:
    """The problem codes of the result's errors."""
    return [error["extensions"]["code"] for error in result["errors"]]


def cost_of(query: str) -> int:
    """The cost rule's figure for ``query`` on the toy schema (default list size 20)."""
    composed = compose_schema([SHELVES], settings=GraphQLSettings())
    schema = composed.schema._schema
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    root = schema.query_type
    assert root is not None
    return query_cost(operation.selection_set, root, fragments, default_list_size=20, schema=schema)


def test_the_cost_multiplies_a_lists_selection_by_its_limit() -> None:
    """shelves(limit: 5) { size books(limit: 4) { title } }: 1 + 5 x (1 + 1 + 4 x 1) = 31."""
    assert cost_of("{ shelves(limit: 5) { size books(limit: 4) { title } } }") == 31


def test_a_list_without_a_limit_counts_as_the_default_size_and_fragments_count_too() -> None:
    """No limit: 20 per list; a named fragment's fields count where it is spread."""
    query = "query { shelves { ...S } } fragment S on Shelf { size books(limit: 2) { title } }"
    assert cost_of(query) == 1 + 20 * (1 + 1 + 2)


async def test_a_query_within_the_limits_runs() -> None:
    """Depth 3, cost well under the maximum: data, no errors."""
    result = await run("{ shelves(limit: 2) { books(limit: 2) { title } } }")
    assert result["errors"] == []
    assert result["data"] == {"shelves": [{"books": [{"title": "book 0"}, {"title": "book 1"}]}] * 2}


async def test_a_query_over_the_cost_is_refused_with_its_cost() -> None:
    """query-too-complex, 400, naming the cost and the maximum, and nothing resolved."""
    result = await run("{ shelves(limit: 50) { books(limit: 50) { title } } }", max_cost=1000)
    assert result["data"] is None
    assert codes(result) == ["query-too-complex"]
    problem = result["errors"][0]["extensions"]
    assert (problem["status"], problem["cost"], problem["max_cost"]) == (400, 1 + 50 * (1 + 50), 1000)
    assert problem["type"] == "https://folio.dev/problems/query-too-complex"


async def test_a_query_over_the_depth_is_refused() -> None:
    """Five nested selections with a maximum of 3: query-too-deep."""
    nested = (
        "{ shelves(limit: 1) { shelves(limit: 1) { shelves(limit: 1) { shelves(limit: 1) { size } } } } }"
    )
    result = await run(nested, max_depth=3)
    assert result["data"] is None
    assert codes(result) == ["query-too-deep"]


async def test_a_document_over_the_token_limit_is_refused() -> None:
    """More tokens than max_tokens: query-too-large, the parser stopped."""
    result = await run("{ " + "a: shelves { size } " * 20 + "}", max_tokens=50)
    assert codes(result) == ["query-too-large"]


async def test_a_folio_error_in_a_resolver_is_its_problem() -> None:
    """NotFoundError: the REST API's problem in the error's extensions, with its extra members."""
    result = await run("{ missing { title } }")
    assert codes(result) == ["not-found"]
    assert result["errors"][0]["extensions"]["entity"] == "book"
    assert result["errors"][0]["extensions"]["status"] == 404


async def test_an_unexpected_error_is_masked_as_internal_error() -> None:
    """A RuntimeError: internal-error, its message kept out of the answer."""
    result = await run("{ broken { title } }")
    assert codes(result) == ["internal-error"]
    assert "secret" not in str(result)


async def test_an_invalid_document_is_validation_failed() -> None:
    """An unknown field: validation-failed (422), graphql-core's message as the detail."""
    result = await run("{ nothing }")
    assert codes(result) == ["validation-failed"]
    assert "nothing" in result["errors"][0]["message"]
