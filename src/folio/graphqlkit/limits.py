"""The limits every GraphQL operation must keep: depth, size and cost.

Depth and size are strawberry's own extensions (``QueryDepthLimiter``,
``MaxTokensLimiter``: the parser stops at the limit, so a huge document costs no
more than a small one); cost is ``CostLimit``, a validation rule. All three run before
any resolver, and ``folio.graphqlkit.problems`` gives their errors problem codes
(``query-too-deep``, ``query-too-large``, ``query-too-complex``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, cast

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
    get_nullable_type,
)
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, QueryDepthLimiter, SchemaExtension

from folio.core.settings.graphql import GraphQLSettings
from folio.graphqlkit.problems import QueryTooComplexError, problem_of

__all__ = ["LIST_SIZE_ARGUMENTS", "limit_extensions", "query_cost"]

LIST_SIZE_ARGUMENTS = ("limit", "first", "per_page", "perPage")
"""Arguments that bound how many items a list field returns (the first one given counts)."""


def _list_size(node: FieldNode, default: int) -> int:
    for argument in node.arguments or ():
        if argument.name.value in LIST_SIZE_ARGUMENTS and isinstance(argument.value, IntValueNode):
            return int(argument.value.value)
    # A variable or no argument: the service caps pages at api.max_page_size, but the
    # value is unknown before execution, so the default stands in for it.
    return default


def query_cost(
    selection: SelectionSetNode,
    parent: GraphQLObjectType | GraphQLInterfaceType,
    fragments: dict[str, FragmentDefinitionNode],
    *,
    default_list_size: int,
    schema: Any,
    multiplier: int = 1,
) -> int:
    """How many fields ``selection`` on ``parent`` may resolve: each once per parent it appears under."""
    total = 0
    for node in selection.selections:
        if isinstance(node, FieldNode):
            definition = parent.fields.get(node.name.value)
            if definition is None:  # __typename, or an unknown field another rule reports
                continue
            total += multiplier
            if node.selection_set is None:
                continue
            inner = multiplier
            if isinstance(get_nullable_type(definition.type), GraphQLList):
                inner *= _list_size(node, default_list_size)
            named = get_named_type(definition.type)
            if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
                total += query_cost(
                    node.selection_set,
                    named,
                    fragments,
                    default_list_size=default_list_size,
                    schema=schema,
                    multiplier=inner,
                )
            continue
        condition: NamedTypeNode | None
        if isinstance(node, FragmentSpreadNode):
            fragment = fragments.get(node.name.value)
            if fragment is None:
                continue
            condition, inner_selection = fragment.type_condition, fragment.selection_set
        else:
            inline = cast("InlineFragmentNode", node)
            condition, inner_selection = inline.type_condition, inline.selection_set
        target = schema.get_type(condition.name.value) if condition is not None else parent
        if isinstance(target, GraphQLObjectType | GraphQLInterfaceType):
            total += query_cost(
                inner_selection,
                target,
                fragments,
                default_list_size=default_list_size,
                schema=schema,
                multiplier=multiplier,
            )
    return total


def _cost_rule(max_cost: int, default_list_size: int) -> type[ValidationRule]:
    class CostLimit(ValidationRule):
        """Refuses an operation whose ``query_cost`` is over ``max_cost``."""

        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragments = {
                d.name.value: d for d in context.document.definitions if isinstance(d, FragmentDefinitionNode)
            }

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: object) -> None:
            schema = self.context.schema
            root = schema.get_root_type(node.operation)
            if root is None:
                return
            cost = query_cost(
                node.selection_set, root, self.fragments, default_list_size=default_list_size, schema=schema
            )
            if cost > max_cost:
                error = QueryTooComplexError(
                    f"the query costs {cost}, more than the {max_cost} allowed; "
                    f"ask for fewer fields or smaller pages",
                    cost=cost,
                    max_cost=max_cost,
                )
                self.report_error(GraphQLError(str(error), node, extensions=problem_of(error)))

    return CostLimit


def limit_extensions(settings: GraphQLSettings) -> list[Callable[[], SchemaExtension]]:
    """Factories of the schema extensions that enforce ``settings``' depth, size and cost limits."""
    return [
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        partial(QueryDepthLimiter, max_depth=settings.max_depth),
        partial(AddValidationRules, [_cost_rule(settings.max_cost, settings.default_list_size)]),
    ]
